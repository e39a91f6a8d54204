import { describe, expect, it } from 'vitest'
import { SseParser } from '../src/lib/sse-parser.ts'

describe('SseParser (the tail view reads SSE through fetch, so it parses frames itself)', () => {
  it('reads the gateway tail frames: publish and drop, with comments in between', () => {
    const p = new SseParser()
    const out = p.push(
      ': connected\n\nid: 7\nevent: publish\ndata: {"id":"7"}\n\n: heartbeat\n\nid: 8\nevent: drop\ndata: {"id":"8","dropped":true}\n\n',
    )
    expect(out).toEqual([
      { event: 'publish', data: '{"id":"7"}', id: '7' },
      { event: 'drop', data: '{"id":"8","dropped":true}', id: '8' },
    ])
  })

  it('joins data lines, ignores unknown fields such as topic:, defaults the event to message', () => {
    const out = new SseParser().push('topic: a\ndata: one\ndata:two\ndata\n\n')
    expect(out).toEqual([{ event: 'message', data: 'one\ntwo\n', id: undefined }])
  })

  it('completes a frame split anywhere across chunks, CRLF included', () => {
    const text = 'event: publish\r\ndata: {"a":1}\r\n\r\nevent: drop\rdata: x\r\r'
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser()
      const out = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))]
      expect(out.map((m) => [m.event, m.data])).toEqual([
        ['publish', '{"a":1}'],
        ['drop', 'x'],
      ])
    }
  })

  it('dispatches nothing for a frame that has no data line', () => {
    expect(new SseParser().push('event: publish\n\n')).toEqual([])
  })
})
