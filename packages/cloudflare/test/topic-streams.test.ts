import { describe, expect, it } from 'vitest'
import { type GoneReason, TopicStreams } from '../src/topic-streams.ts'
import { eventually, readUntil } from './helpers.ts'

describe('TopicStreams', () => {
  it('pings an idle stream with an empty comment and forgets it at the first write after its reader left', async () => {
    const gone: GoneReason[] = []
    const streams = new TopicStreams({
      heartbeatMs: 60_000,
      disconnectCheckMs: 50,
      slowConsumerBytes: 1_048_576,
      onGone: (_s, reason) => gone.push(reason),
    })
    const { body } = streams.open({
      id: 'c1',
      kind: 'sub',
      envelope: false,
      heartbeat: true,
      connected: true,
      signal: undefined,
    })
    const reader = body.getReader()
    const text = await readUntil(reader, (t) => t.includes(':\n\n'))
    expect(text).toBe(': connected\n\n:\n\n') // the ping: no event, no heartbeat text
    await reader.cancel()
    await eventually(async () => gone.length > 0, 'the stream to be forgotten')
    expect(gone).toEqual(['left'])
    expect(streams.size).toBe(0)
  })

  it('drops a stream when its request is aborted, without waiting for a write', async () => {
    const gone: GoneReason[] = []
    const streams = new TopicStreams({
      heartbeatMs: 60_000,
      disconnectCheckMs: 0,
      slowConsumerBytes: 1_048_576,
      onGone: (_s, reason) => gone.push(reason),
    })
    const abort = new AbortController()
    streams.open({
      id: 'c2',
      kind: 'sub',
      envelope: false,
      heartbeat: true,
      connected: false,
      signal: abort.signal,
    })
    abort.abort()
    expect(gone).toEqual(['left'])
    expect(streams.subs.size).toBe(0)
  })

  it('delivers a burst written faster than the reader takes it, in order, and ends after it on close', async () => {
    const streams = new TopicStreams({
      heartbeatMs: 60_000,
      disconnectCheckMs: 0,
      slowConsumerBytes: 1_048_576,
      onGone: () => {},
    })
    const { stream, body } = streams.open({
      id: 'c3',
      kind: 'sub',
      envelope: false,
      heartbeat: true,
      connected: true,
      signal: undefined,
    })
    const frames = Array.from({ length: 50 }, (_, i) => `data: ${i}\n\n`)
    const enc = new TextEncoder()
    for (const f of frames) expect(streams.write(stream, enc.encode(f))).toBe(true)
    streams.close('c3')
    const text = await new Response(body).text()
    expect(text).toBe(`: connected\n\n${frames.join('')}`)
  })

  it('closes a stream as a slow consumer once more than the bound is waiting for its reader', async () => {
    const gone: GoneReason[] = []
    const streams = new TopicStreams({
      heartbeatMs: 60_000,
      disconnectCheckMs: 0,
      slowConsumerBytes: 100_000,
      onGone: (_s, reason) => gone.push(reason),
    })
    const { stream } = streams.open({
      id: 'c4',
      kind: 'sub',
      envelope: false,
      heartbeat: true,
      connected: false,
      signal: undefined,
    })
    const chunk = new Uint8Array(10_000).fill(97)
    let accepted = 0
    while (accepted < 100 && streams.write(stream, chunk)) accepted++
    expect(gone).toEqual(['slow'])
    expect(accepted).toBeGreaterThan(10)
    expect(accepted).toBeLessThan(100)
  })
})
