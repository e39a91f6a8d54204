import { describe, expect, it } from 'vitest'
import { GatewayError } from './errors.ts'
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
    expect(ev.sse).toBe(ev.sse)
    expect(ev.json).toBe(ev.json)
    expect(new TextDecoder().decode(ev.sse)).toBe('id: 1\ntopic: t\ndata: héllo\ndata: wörld\n\n')
  })

  it('gives WebSocket frames the JSON envelope with event null when absent', () => {
    expect(JSON.parse(new TextDecoder().decode(ev.json))).toEqual({
      topic: 't',
      id: '1',
      event: null,
      data: 'héllo\nwörld',
    })
    expect(formatWsFrame({ topic: 't', id: '2', event: 'e', data: '' })).toBe(
      '{"topic":"t","id":"2","event":"e","data":""}',
    )
  })

  it('puts the envelope in one data line for ?envelope=json', () => {
    const text = new TextDecoder().decode(ev.sseEnvelope)
    const data = text.split('\n').filter((l) => l.startsWith('data: '))
    expect(data).toHaveLength(1)
    expect(JSON.parse(data[0]!.slice(6)).data).toBe('héllo\nwörld')
  })
})
