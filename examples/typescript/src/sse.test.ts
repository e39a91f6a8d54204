// Unit tests of the event-stream parser: `npm test` (node:test, run through tsx).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SseParser } from './sse.ts'

const ev = (topic: string, id: string, type: string, data: string) =>
  ({ kind: 'event', topic, id, type, data }) as const

test('reads the gateway frames: comments, id, event, topic, multi-line data', () => {
  const p = new SseParser()
  const items = p.feed(
    ': connected\n\n' +
      'id: 1\nevent: greeting\ntopic: a\ndata: hello\n\n' +
      'id: 2\ntopic: b\ndata: line one\ndata:\ndata:  two spaces\n\n' +
      ': heartbeat\n\n',
  )
  assert.deepEqual(items, [
    { kind: 'comment', text: 'connected' },
    ev('a', '1', 'greeting', 'hello'),
    ev('b', '2', '', 'line one\n\n two spaces'),
    { kind: 'comment', text: 'heartbeat' },
  ])
  assert.equal(p.lastEventId, '2')
})

test('ends lines at CRLF, LF or a lone CR, even when a chunk stops between CR and LF', () => {
  const p = new SseParser()
  const stream = '\uFEFFid: 7\r\ndata: a\rdata: b\ndata: ü\r\n\r\n'
  const items = [...stream].flatMap((ch) => p.feed(ch))
  assert.deepEqual(items, [ev('', '7', '', 'a\nb\nü')])
})

test('follows the field rules: retry digits only, no NUL in id, unfinished event discarded', () => {
  const p = new SseParser()
  const items = p.feed(
    'retry: 2500\n' + // sets the reconnection delay
      'retry: 1x\n' + // ignored: not only digits
      'id: 5\n' +
      'id: bad\0id\n' + // ignored: contains NUL
      'data\n' + // a field name alone: empty value
      'data:x\n' + // no space after the colon
      'unknown: ignored\n\n' +
      'id: 6\nevent: only-a-type\n\n' + // no data: nothing is dispatched, but the id counts
      'id: 9\ndata: cut off at the end', // never dispatched: its id does not count
  )
  assert.deepEqual(items, [ev('', '5', '', '\nx')])
  assert.equal(p.retry, 2500)
  assert.equal(p.lastEventId, '6')
})
