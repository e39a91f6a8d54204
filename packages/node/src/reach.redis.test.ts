import { loadConfig, silentLogger } from '@sse-gateway/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type TestRedis, startTestRedis } from './redis-test-server.ts'
import { type NodeGateway, startGateway } from './server.ts'
import { openSse, openWs, until } from './test-clients.ts'

// Issue #16 across a cluster of in-process gateways on a real redis-server: a broadcast, a
// direct send and a presence question asked on one node about connections held by others.

const KEY = 'reach-key'
let redis: TestRedis
const gateways: NodeGateway[] = []
let run = 0

beforeAll(async () => {
  redis = await startTestRedis()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()))
  run++
})

async function gateway(id: string, forward = 'redis'): Promise<NodeGateway> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEYS: KEY,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `reach${run}:`,
    CLUSTER_FORWARD: forward,
    NODE_ID: id,
    NODE_TTL_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '1000',
    DRAIN_LINGER_MS: '0',
  })
  const gw = await startGateway(config, { log: silentLogger })
  gateways.push(gw)
  return gw
}

async function post(url: string, path: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, ...headers },
    body,
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function admin(url: string, path: string) {
  const res = await fetch(`${url}/admin/api${path}`, {
    headers: { authorization: `Bearer ${KEY}` },
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** Asks the admin API until `done` holds (a closed connection leaves the directory soon after). */
async function poll(
  url: string,
  path: string,
  done: (r: Awaited<ReturnType<typeof admin>>) => boolean,
) {
  const deadline = Date.now() + 10_000
  for (;;) {
    const r = await admin(url, path)
    if (done(r) || Date.now() > deadline) return r
    await new Promise((res) => setTimeout(res, 10))
  }
}

describe.each(['redis', 'http'])('reach across nodes (forwarding over %s)', (forward) => {
  it('broadcasts from a node with no connection to every connection of the others, once each', async () => {
    const a = await gateway('node-a', forward)
    const b = await gateway('node-b', forward)
    const c = await gateway('node-c', forward)
    const none = await post(a.url, '/publish', { 'x-sse-topic': '*', 'x-sse-id': 'b0' }, 'x')
    expect(none.body).toEqual({ id: 'b0', delivered: [], dropped: ['*'] })

    const x = await openSse(b.url, '/sse?topic=x')
    const xy = await openSse(b.url, '/sse?topic=x,y')
    const env = await openSse(c.url, '/sse?topic=y&envelope=json')
    const ws = await openWs(b.url, '/ws?topic=x,y')
    const res = await post(a.url, '/publish', { 'x-sse-topic': '*', 'x-sse-id': 'b1' }, 'all')
    expect(res.body).toEqual({ id: 'b1', delivered: ['*'], dropped: [], connections: 4 })
    // A topic event after it travels the same way: once it is there, a duplicate would be too.
    await post(a.url, '/publish', { 'x-sse-topic': 'x,y', 'x-sse-id': 'after' }, 'then')
    const sse = [x, xy, env]
    await until(() => sse.every((s) => s.frames.some((f) => f.id?.startsWith('after'))), 'after')
    await until(() => ws.frames.filter((f) => f.id === 'after').length === 2, 'ws after')
    for (const s of [x, xy]) {
      expect(s.frames.filter((f) => f.topic === '*')).toEqual([
        { event: undefined, id: undefined, topic: '*', data: 'all' },
      ])
    }
    expect(env.frames.filter((f) => f.topic === '*').map((f) => JSON.parse(f.data))).toEqual([
      { topic: '*', id: 'b1', event: null, data: 'all', cursor: null },
    ])
    expect(ws.frames.filter((f) => f.topic === '*')).toEqual([
      { topic: '*', id: 'b1', event: null, data: 'all', cursor: null },
    ])
    expect(a.backend.counters.broadcasts).toBe(2) // the drop and the delivered one
    expect(a.backend.counters.dropped).toBe(1)
    expect(b.backend.counters.broadcasts).toBe(0) // counted where the publisher was accepted
    for (const s of [x, xy, env, ws]) s.close()
  })

  it('routes a broadcast by a look-up made after it arrived, not one left by a dropped one', async () => {
    const a = await gateway('node-a', forward)
    const b = await gateway('node-b', forward)
    const dropped = await post(a.url, '/publish', { 'x-sse-topic': '*', 'x-sse-id': 'b0' }, 'x')
    expect(dropped.body.dropped).toEqual(['*'])
    // Right after it (well within the reuse time of a look-up): connections on both nodes.
    const onA = await openSse(a.url, '/sse?topic=s')
    const onB = await openSse(b.url, '/sse?topic=t')
    const res = await post(a.url, '/publish', { 'x-sse-topic': '*', 'x-sse-id': 'b1' }, 'both')
    expect(res.body).toEqual({ id: 'b1', delivered: ['*'], dropped: [], connections: 2 })
    for (const s of [onA, onB]) await until(() => s.frames.some((f) => f.data === 'both'), 'it')
    for (const s of [onA, onB]) s.close()
  })

  it('sends to one connection on whichever node holds it; 404 when none does', async () => {
    const a = await gateway('node-a', forward)
    const b = await gateway('node-b', forward)
    const c = await gateway('node-c', forward)
    const onB = await openSse(b.url, '/sse?topic=d')
    const otherOnB = await openSse(b.url, '/sse?topic=d')
    const onC = await openWs(c.url, '/ws?topic=d')
    const to = (id: string | undefined, eventId: string, body: string) =>
      post(a.url, `/admin/api/connections/${id}/events`, { 'x-sse-id': eventId }, body)
    expect(await to(onB.connectionId(), 'dm-1', 'for b')).toEqual({
      status: 202,
      body: { id: 'dm-1', connection: onB.connectionId() },
    })
    expect((await to(onC.connectionId(), 'dm-2', 'for c')).status).toBe(202)
    expect((await to('nobody-here', 'dm-3', 'x')).status).toBe(404)
    await until(() => onB.frames.some((f) => f.data === 'for b'), 'the send on node-b')
    await until(() => onC.frames.some((f) => f.id === 'dm-2'), 'the send on node-c')
    expect(onC.frames.filter((f) => f.id === 'dm-2')).toEqual([
      { topic: null, id: 'dm-2', event: null, data: 'for c', cursor: null },
    ])
    await post(a.url, '/publish', { 'x-sse-topic': 'd', 'x-sse-id': 'after' }, 'all')
    await until(() => otherOnB.frames.some((f) => f.data === 'all'), 'the topic event')
    expect(otherOnB.frames.some((f) => f.data === 'for b')).toBe(false)
    expect(a.backend.counters.directSends).toBe(2)
    const stats = await admin(a.url, '/stats')
    expect(stats.body.directSends).toBe(2)
    for (const s of [onB, otherOnB, onC]) s.close()
  })
})

describe('presence across nodes', () => {
  it('counts every node’s subscribers, says since when, and answers 404 once the last left', async () => {
    const a = await gateway('node-a')
    const b = await gateway('node-b')
    const c = await gateway('node-c')
    expect((await admin(a.url, '/topics/p')).status).toBe(404)
    const before = Date.now()
    const b1 = await openSse(b.url, '/sse?topic=p')
    const b2 = await openWs(b.url, '/ws?topic=p,q')
    const c1 = await openSse(c.url, '/sse?topic=p')
    const p = await admin(a.url, '/topics/p')
    expect(p.status).toBe(200)
    expect(p.body).toMatchObject({
      topic: 'p',
      subscribers: 3,
      nodes: [
        { node: 'node-b', subscribers: 2 },
        { node: 'node-c', subscribers: 1 },
      ],
    })
    const since = Date.parse(p.body.since as string)
    expect(since).toBeGreaterThanOrEqual(before - 1000)
    expect(since).toBeLessThanOrEqual(Date.now())
    b1.close()
    b2.close()
    const down = await poll(a.url, '/topics/p', (r) => r.body.subscribers === 1)
    expect(down.body.nodes).toEqual([{ node: 'node-c', subscribers: 1 }])
    c1.close()
    expect((await poll(a.url, '/topics/p', (r) => r.status === 404)).status).toBe(404)
  })
})
