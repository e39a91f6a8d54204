import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { collect, eventually, readUntil } from './helpers.ts'

const KEY = 'test-key'
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`http://gateway${path}`, init))

const publish = (topic: string, id: string, body: string) =>
  call('/publish', {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'x-sse-topic': topic, 'x-sse-id': id },
    body,
  })

async function listIds(topic: string): Promise<string[]> {
  const res = await call(`/admin/api/connections?topic=${topic}`, {
    headers: { authorization: `Bearer ${KEY}` },
  })
  const body = (await res.json()) as { items: Array<{ id: string }> }
  return body.items.map((c) => c.id)
}

describe('Worker', () => {
  it('merges the streams of several topic objects into one SSE response', async () => {
    const res = await call('/sse?topic=m-a,m-b')
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    const id = res.headers.get('x-sse-connection-id')!
    const reader = res.body!.getReader()
    await readUntil(reader, (t) => t.includes(': connected'))
    expect(await listIds('m-b')).toEqual([id])
    expect(await (await publish('m-a,m-b', 'e1', 'both')).json()).toMatchObject({
      delivered: ['m-a', 'm-b'],
      dropped: [],
    })
    const text = await readUntil(
      reader,
      (t) => t.includes('topic: m-a') && t.includes('topic: m-b'),
    )
    // Each id carries the cursor of both topics, the second one's after both events.
    expect(text).toMatch(/id: e1~1\.\w+-\w+-\w+\.\w+-\w+-\w+\ntopic: m-a\ndata: both\n\n/)
    expect(text).toMatch(/id: e1~1\.\w+-\w+-1\.\w+-\w+-1\ntopic: m-\w\ndata: both\n\n/)
    await reader.cancel()
    await eventually(async () => (await listIds('m-a')).length === 0, 'the registry to follow')
  })

  it('ends a multi-topic SSE response at once when an admin disconnects it', async () => {
    const res = await call('/sse?topic=kick-a,kick-b')
    const id = res.headers.get('x-sse-connection-id')!
    const reader = res.body!.getReader()
    await readUntil(reader, (t) => t.includes('gateway.connected'))
    const del = await call(`/admin/api/connections/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${KEY}` },
    })
    expect(del.status).toBe(200)
    for (;;) if ((await reader.read()).done) break // ends (the test's timeout bounds it)
    await eventually(
      async () => (await listIds('kick-b')).length === 0,
      'the other topic to let go',
    )
  })

  it('accepts a hibernatable WebSocket in its first topic and forwards its other topics', async () => {
    const res = await call('/ws?topic=w-home,w-other', { headers: { upgrade: 'websocket' } })
    expect(res.status).toBe(101)
    const ws = res.webSocket!
    ws.accept()
    const got = collect(ws)
    await publish('w-other', 'o1', 'via home')
    await publish('w-home', 'h1', 'direct')
    const [connected, ...events] = (await got.wait(3)).map((m) => JSON.parse(m))
    expect(connected).toMatchObject({ topic: null, id: null, event: 'gateway.connected' })
    expect(events).toEqual([
      { topic: 'w-other', id: 'o1', event: null, data: 'via home', cursor: expect.any(String) },
      { topic: 'w-home', id: 'h1', event: null, data: 'direct', cursor: expect.any(String) },
    ])
    expect(events[1].cursor).toMatch(/^1\.\w+-\w+-1\.\w+-\w+-1$/) // both topics' positions
    ws.close(1000, 'bye')
    await eventually(
      async () =>
        (await (await publish('w-other', 'o2', 'x')).json<{ dropped: string[] }>()).dropped
          .length === 1,
      'the other topic to forget the socket',
    )
  })

  it('answers a dropped publish without its body and refuses a missing key', async () => {
    const res = await publish('nobody-here', 'd1', 'lost')
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: 'd1', delivered: [], dropped: ['nobody-here'] })
    const unauthorized = await call('/publish', { method: 'POST', headers: { 'x-sse-topic': 'a' } })
    expect(unauthorized.status).toBe(401)
  })

  it('serves the admin UI, with deep links falling back to its index page', async () => {
    const page = await call('/admin/connections')
    if (page.status === 404) {
      // apps/admin not built: the Worker says so in the contract's error shape.
      expect(((await page.json()) as { error: { message: string } }).error.message).toMatch(
        /not built/,
      )
    } else {
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/text\/html/)
    }
    expect((await call('/admin/assets/missing.js')).status).toBe(404)
  })
})
