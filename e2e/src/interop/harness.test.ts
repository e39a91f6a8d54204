// The interop harness's own logic, without a gateway: how client output is read, which events
// count as published, and how a run's cells merge into the report.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseLine, toReceived } from './client-run.ts'
import { type InteropCell, writeInteropReport } from './report.ts'
import { published } from './scenarios.ts'

const sse = (type: string, id: string, data: string) =>
  toReceived(parseLine(JSON.stringify({ type, id, data })))!

describe('interop harness', () => {
  it('reads SSE events, WebSocket frames, errors and anything else a client prints', () => {
    expect(toReceived(parseLine('{"type":"message","id":"p1~1.a-b-1","data":"x"}'))).toEqual({
      type: 'message',
      publisherId: 'p1',
      cursor: 'p1~1.a-b-1',
      data: 'x',
    })
    const frame = JSON.stringify({
      topic: 't',
      id: 'p2',
      event: null,
      data: 'y',
      cursor: '1.a-b-2',
    })
    expect(toReceived(parseLine(JSON.stringify({ frame })))).toEqual({
      type: null,
      publisherId: 'p2',
      cursor: '1.a-b-2',
      topic: 't',
      data: 'y',
    })
    expect(parseLine('{"error":"closed"}')).toEqual({ error: 'closed' })
    expect(parseLine('not json')).toEqual({ unreadable: 'not json' })
  })

  it('leaves out gateway events and the empty events a library makes of comments', () => {
    const got = published([
      sse('gateway.connected', '~1.a-b-0', '{"connectionId":"c1"}'),
      sse('message', '', ''), // a comment turned into an event (r3labs/sse)
      sse('message', 'p1~1.a-b-1', 'one'),
      sse('message', 'p1~1.a-b-1', ''), // a heartbeat after it, with its id (httpx-sse 0.4.3)
      sse('message', 'p2~1.a-b-2', ''), // an empty body that was published
      sse('gateway.connected', 'p2~1.a-b-2', '{"connectionId":"c2"}'), // resumed, in a browser
    ])
    expect(got.phantoms).toBe(2)
    expect(got.events.map((e) => [e.publisherId, e.data])).toEqual([
      ['p1', 'one'],
      ['p2', ''],
    ])
  })

  it('keeps the cells a run did not cover, and drops those of clients that are gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-report-'))
    const cell = (client: string, target: string, date: string): InteropCell => ({
      client,
      target,
      scenario: 'empty',
      status: 'passed',
      ms: 1,
      date,
    })
    const base = {
      scenarios: [{ name: 'empty', title: 'an empty body' }],
      clients: [
        { name: 'a', language: 'x', transport: 'sse' as const, library: 'l', version: '1' },
        { name: 'b', language: 'x', transport: 'sse' as const, library: 'l', version: '1' },
      ],
    }
    writeInteropReport(dir, {
      ...base,
      targets: [{ name: 'node' }, { name: 'wrangler-dev' }],
      results: [cell('a', 'node', 'd1'), cell('b', 'node', 'd1'), cell('a', 'wrangler-dev', 'd1')],
    })
    const order = ['node', 'wrangler-dev']
    const r = writeInteropReport(
      dir,
      { ...base, targets: [{ name: 'node' }], results: [cell('a', 'node', 'd2')] },
      order,
    )
    expect(r.results.map((c) => `${c.client} ${c.target} ${c.date}`)).toEqual([
      'a node d2',
      'b node d1',
      'a wrangler-dev d1',
    ])
    expect(r.targets.map((t) => t.name)).toEqual(order)
    expect(readFileSync(join(dir, 'interop-matrix.md'), 'utf8')).toContain(
      'Cells marked * are from an earlier run (d1',
    )
    const gone = writeInteropReport(
      dir,
      { ...base, clients: base.clients.slice(0, 1), targets: [], results: [] },
      order,
    )
    expect(gone.results.map((c) => `${c.client} ${c.target}`)).toEqual(['a node', 'a wrangler-dev'])
  })
})
