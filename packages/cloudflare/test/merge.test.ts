import { describe, expect, it } from 'vitest'
import { frameEnd, mergeEventStreams } from '../src/merge.ts'

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

describe('mergeEventStreams', () => {
  it('finds the end of the last complete frame', () => {
    expect(frameEnd(enc.encode('id: 1\ndata: a\n\nid: 2\nda'))).toBe(15)
    expect(frameEnd(enc.encode('id: 1\ndata: a\n'))).toBe(0)
  })

  it('never interleaves two sources inside a frame, and ends when one source ends', async () => {
    const a = source(['id: 1\ndata: a', 'aa\n', '\nid: 2\ndata: a2\n\n'])
    const b = source(['id: 3\nda', 'ta: b\n\n'], true)
    const text = await readAll(mergeEventStreams(enc.encode(': connected\n\n'), [a, b]))
    expect(text.startsWith(': connected\n\n')).toBe(true)
    const frames = text.split('\n\n').filter((f) => f !== '')
    expect(frames).toContain('id: 3\ndata: b')
    for (const f of frames) expect(f).toMatch(/^(: connected|id: \d\ndata: \w+)$/)
  })
})
