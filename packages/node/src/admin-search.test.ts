import { describe, expect, it } from 'vitest'
import { KEY, useTestGateway } from './test-gateway.ts'

const start = useTestGateway()

/** An open SSE stream with its own user agent; ends when the test aborts it. */
async function open(url: string, topics: string, ua: string) {
  const ctl = new AbortController()
  const res = await fetch(`${url}/sse?topic=${topics}`, {
    headers: { 'user-agent': ua },
    signal: ctl.signal,
  })
  const id = res.headers.get('x-sse-connection-id') ?? ''
  return { id, res, close: () => ctl.abort() }
}

async function admin(url: string, path: string, method = 'GET') {
  const res = await fetch(`${url}/admin/api${path}`, { method, headers: { 'x-api-key': KEY } })
  return { status: res.status, body: await res.json() }
}

/** Every id a search lists, following its cursors with pages of `limit`. */
async function all(url: string, query: string, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor = ''
  for (;;) {
    const { body } = await admin(url, `/connections?${query}&limit=${limit}&cursor=${cursor}`)
    ids.push(...body.items.map((c: { id: string }) => c.id))
    if (!body.nextCursor) return ids
    cursor = body.nextCursor
  }
}

describe('admin API: connection search, bulk disconnect, info', () => {
  it('searches by id, topic prefix, address and user agent, page by page', async () => {
    const g = await start()
    const a = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => open(g.url, `tenant/acme/o${i}`, `Probe-A/${i}`)),
    )
    const b = await Promise.all([0, 1, 2].map((i) => open(g.url, `user:${i}`, `probe-b/${i}`)))
    expect(await all(g.url, 'topicPrefix=tenant/acme/', 2)).toEqual(a.map((c) => c.id))
    expect(await all(g.url, 'userAgent=PROBE-B', 2)).toEqual(b.map((c) => c.id))
    expect(await all(g.url, 'address=127.0.0.1', 3)).toEqual([...a, ...b].map((c) => c.id))
    expect(await all(g.url, 'address=10.9.', 3)).toEqual([])
    const one = b[1] as { id: string }
    expect(await all(g.url, `id=${one.id.slice(-6)}`, 5)).toEqual([one.id])
    expect(await all(g.url, 'topicPrefix=user:&userAgent=probe-b/2', 1)).toEqual([b[2]?.id])
    const bad = await admin(g.url, '/connections?topicPrefix=a%20b')
    expect(bad.status).toBe(400)
    for (const c of [...a, ...b]) c.close()
  })

  it('sorts by events sent and by age across pages, with a search (one process sorts itself)', async () => {
    const g = await start()
    const conns = await Promise.all([0, 1, 2, 3].map((i) => open(g.url, `sorted/s${i}`, 'sorter')))
    // Connection i is sent i events directly; the counters move as each send is written.
    for (const [i, c] of conns.entries()) {
      for (let n = 0; n < i; n++) {
        const res = await fetch(`${g.url}/admin/api/connections/${c.id}/events`, {
          method: 'POST',
          headers: { 'x-api-key': KEY, 'x-sse-id': `d${i}-${n}` },
          body: 'x',
        })
        expect(res.status).toBe(202)
      }
    }
    const ids = conns.map((c) => c.id)
    expect(await all(g.url, 'topicPrefix=sorted/&sort=events', 1)).toEqual([...ids].reverse())
    expect(await all(g.url, 'userAgent=sorter&sort=oldest', 3)).toEqual(ids)
    const newest = await all(g.url, 'userAgent=sorter&sort=newest', 3)
    expect(new Set(newest)).toEqual(new Set(ids))
    const bad = await admin(g.url, '/connections?sort=most')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('"most"')
    for (const c of conns) c.close()
  })

  it('disconnects every connection of a filter, and refuses a bulk disconnect without one', async () => {
    const g = await start()
    const keep = await open(g.url, 'keep', 'x')
    const go = await Promise.all([0, 1, 2].map((i) => open(g.url, `drop:${i}`, 'x')))
    expect((await admin(g.url, '/connections', 'DELETE')).status).toBe(400)
    const done = await admin(g.url, '/connections?topicPrefix=drop:', 'DELETE')
    expect(done).toEqual({ status: 200, body: { matched: 3, disconnected: 3 } })
    for (const c of go) expect(await c.res.text()).toContain('gateway.')
    expect(await all(g.url, 'x=1', 10)).toEqual([keep.id])
    keep.close()
  })

  it('says its version, runtime and start time', async () => {
    const g = await start()
    const { body } = await admin(g.url, '/info')
    expect(body).toMatchObject({ version: '0.1.0', runtime: 'node', node: expect.any(String) })
    expect(Date.parse(body.startedAt)).toBeLessThanOrEqual(Date.now())
  })
})
