import { describe, expect, it } from 'vitest'
import { GatewayError } from './errors.ts'
import { topicHash } from './cursor.ts'
import { EncodedEvent, formatWsFrame } from './event.ts'
import { formatComment, formatEvent } from './sse.ts'

describe('formatEvent', () => {
  it('writes id, event, topic, then one data line per body line and a blank line', () => {
    expect(formatEvent({ id: '7', event: 'update', topic: 'a', data: 'x' })).toBe(
      'id: 7\nevent: update\ntopic: a\ndata: x\n\n',
    )
  })

  it('splits CRLF, CR and LF bodies into data lines', () => {
    expect(formatEvent({ id: '7', data: 'a\r\nb\nc\rd' })).toBe(
      'id: 7\ndata: a\ndata: b\ndata: c\ndata: d\n\n',
    )
  })

  it('keeps empty lines of the body as empty data lines', () => {
    expect(formatEvent({ data: 'a\n\nb\n' })).toBe('data: a\ndata: \ndata: b\ndata: \n\n')
  })

  it('writes an empty body as one empty data line', () => {
    expect(formatEvent({ id: '1', data: '' })).toBe('id: 1\ndata: \n\n')
  })

  it('refuses a line break in single-line fields', () => {
    expect(() => formatEvent({ id: '1\n2', data: 'x' })).toThrow(GatewayError)
    expect(() => formatEvent({ event: 'a\rb', data: 'x' })).toThrow(GatewayError)
  })

  it('writes retry as whole milliseconds', () => {
    expect(formatEvent({ retry: 1500.7, data: 'x' })).toBe('retry: 1500\ndata: x\n\n')
  })
})

describe('formatComment', () => {
  it('makes a comment line that cannot break out into a field', () => {
    expect(formatComment('hello\ndata: x')).toBe(': hello data: x\n\n')
  })
})

describe('EncodedEvent', () => {
  const ev = new EncodedEvent({ topic: 't', id: '1', event: undefined, data: 'héllo\nwörld' })

  it('encodes once and hands out the same bytes every time', () => {
    expect(ev.sse()).toBe(ev.sse())
    expect(ev.json()).toBe(ev.json())
    expect(new TextDecoder().decode(ev.sse())).toBe('id: 1\ntopic: t\ndata: héllo\ndata: wörld\n\n')
  })

  it('gives WebSocket frames the JSON envelope with event null when absent', () => {
    expect(JSON.parse(new TextDecoder().decode(ev.json()))).toEqual({
      topic: 't',
      id: '1',
      event: null,
      data: 'héllo\nwörld',
      cursor: null,
    })
    expect(formatWsFrame({ topic: 't', id: '2', event: 'e', data: '' }, '1.x-y-1')).toBe(
      '{"topic":"t","id":"2","event":"e","data":"","cursor":"1.x-y-1"}',
    )
  })

  it('puts the envelope in one data line for ?envelope=json', () => {
    const text = new TextDecoder().decode(ev.sseEnvelope())
    const data = text.split('\n').filter((l) => l.startsWith('data: '))
    expect(data).toHaveLength(1)
    expect(JSON.parse(data[0]!.slice(6)).data).toBe('héllo\nwörld')
  })
})

describe('EncodedEvent with a sequence number', () => {
  const ev = new EncodedEvent({ topic: 'orders', id: 'o-1', data: 'x', seq: 5, epoch: 'k2m9' })
  const dec = (b: Uint8Array) => new TextDecoder().decode(b)

  it('writes `<publisher id>~<cursor>` as the SSE id of a single-topic subscriber', () => {
    expect(dec(ev.sse())).toBe(
      `id: o-1~1.${topicHash('orders')}-k2m9-5\ntopic: orders\ndata: x\n\n`,
    )
  })

  it('gives each multi-topic scope its own cursor, encoded once per scope', () => {
    const scope = { key: 'orders,alerts', cursor: () => '1.aaa-bbb-1.ccc-ddd-2' }
    let calls = 0
    const counted = {
      key: scope.key,
      cursor: () => {
        calls++
        return scope.cursor()
      },
    }
    expect(dec(ev.sse(counted))).toContain('id: o-1~1.aaa-bbb-1.ccc-ddd-2\n')
    ev.sse(counted)
    expect(calls).toBe(1)
    expect(JSON.parse(dec(ev.json(counted))).cursor).toBe('1.aaa-bbb-1.ccc-ddd-2')
  })

  it('frames SSE bytes with the runtime encoder (a chunk on Node)', () => {
    const chunked = new EncodedEvent(
      { topic: 't', id: '1', data: 'y' },
      { sse: (f) => new TextEncoder().encode(`${f.length.toString(16)}\r\n${f}\r\n`) },
    )
    expect(dec(chunked.sse())).toBe('18\r\nid: 1\ntopic: t\ndata: y\n\n\r\n')
    expect(dec(chunked.json())).not.toContain('\r\n')
  })
})
