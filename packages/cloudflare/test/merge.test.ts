import { topicHash } from '@sse-gateway/core'
import { describe, expect, it } from 'vitest'
import { frameEnd, mergeTopicStreams, readHistory } from '../src/merge.ts'
import { historyFrame } from '../src/wire.ts'

const enc = new TextEncoder()

/** A source that sends `chunks` with a pause between them, then stays open (or ends). */
function source(chunks: string[], end = false): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 5))
      if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]))
      else if (end) c.close()
      else await new Promise(() => {}) // stays open, like a topic stream
    },
  })
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<string> {
  let out = ''
  const dec = new TextDecoder()
  for await (const chunk of s as unknown as AsyncIterable<Uint8Array>) out += dec.decode(chunk)
  return out
}

/** An event frame as a topic object writes it: its own topic's cursor after the publisher's id. */
const frame = (topic: string, pub: string, seq: number, data: string) =>
  `id: ${pub}~1.${topicHash(topic)}-ep-${seq.toString(36)}\ntopic: ${topic}\ndata: ${data}\n\n`

describe('readHistory', () => {
  it('reads the history line split across chunks and keeps what follows it', async () => {
    const line = historyFrame({ epoch: 'ep', last: 3, events: [{ seq: 3, id: 'x', data: 'a\nb' }] })
    const s = source([line.slice(0, 10), line.slice(10, -1), `${line.slice(-1)}: heart`], true)
    const { history, rest } = await readHistory(s)
    expect(history).toEqual({ epoch: 'ep', last: 3, events: [{ seq: 3, id: 'x', data: 'a\nb' }] })
    expect(new TextDecoder().decode(rest)).toBe(': heart')
  })
})

describe('mergeTopicStreams', () => {
  it('finds the end of the last complete frame', () => {
    expect(frameEnd(enc.encode('id: 1\ndata: a\n\nid: 2\nda'))).toBe(15)
    expect(frameEnd(enc.encode('id: 1\ndata: a\n'))).toBe(0)
  })

  it('never interleaves two sources inside a frame, widens each id to the whole cursor, and skips what the replay wrote', async () => {
    const a = frame('a', 'p1', 5, 'a5')
    const b = frame('b', 'p2', 2, 'b2')
    const sources = [
      {
        topic: 'a',
        chunks: [a.slice(0, 9), `${a.slice(9)}: heartbeat\n\n`, frame('a', 'p3', 6, 'a6')],
      },
      { topic: 'b', chunks: [frame('b', 'old', 1, 'b1') + b.slice(0, 20), b.slice(20)], end: true },
    ]
    const positions = new Map([
      ['a', { epoch: 'ep', seq: 4 }],
      ['b', { epoch: 'ep', seq: 1 }],
    ])
    const merged = mergeTopicStreams({
      first: enc.encode(': connected\n\n'),
      topics: ['a', 'b'],
      sources: sources.map((s) => ({
        topic: s.topic,
        reader: source(s.chunks, s.end).getReader(),
        rest: new Uint8Array(0),
      })),
      positions,
      envelope: false,
    })
    const text = await readAll(merged)
    expect(text.startsWith(': connected\n\n')).toBe(true)
    const events = text
      .split('\n\n')
      .filter((f) => f.startsWith('id: '))
      .map((f) => /^id: (\w+)~(\S+)\ntopic: (\w)\ndata: (\w+)$/.exec(f)?.slice(1) ?? [f])
    expect(events.map((e) => e[3]).sort()).toEqual(['a5', 'a6', 'b2']) // b1: replayed already
    // Each id names where every topic stands after that event, in the order they were written.
    const seen = { a: 4, b: 1 }
    for (const [, cursor, topic, data] of events) {
      seen[topic as 'a' | 'b'] = Number((data as string).slice(1))
      expect(cursor).toBe(`1.${topicHash('a')}-ep-${seen.a}.${topicHash('b')}-ep-${seen.b}`)
    }
    expect(text).toContain(': heartbeat\n\n')
  })

  it('rewrites the envelope cursor too', async () => {
    const body = `{"topic":"b","id":"p","event":null,"data":"x","cursor":"1.${topicHash('b')}-ep-3"}`
    const f = `id: p~1.${topicHash('b')}-ep-3\ntopic: b\ndata: ${body}\n\n`
    const merged = mergeTopicStreams({
      first: enc.encode(': connected\n\n'),
      topics: ['a', 'b'],
      sources: [{ topic: 'b', reader: source([f], true).getReader(), rest: new Uint8Array(0) }],
      positions: new Map([['a', { epoch: 'ep', seq: 7 }]]),
      envelope: true,
    })
    const whole = `1.${topicHash('a')}-ep-7.${topicHash('b')}-ep-3`
    expect(await readAll(merged)).toBe(
      `: connected\n\nid: p~${whole}\ntopic: b\ndata: ${body.replace(/"cursor":"[^"]+"/, `"cursor":"${whole}"`)}\n\n`,
    )
  })
})
