import { EncodedEvent, silentLogger } from '@sse-gateway/core'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type LocalConnection, newCounters } from './connection.ts'
import type { ForwardKind } from './forward.ts'
import { RedisNamespace } from './redis-namespace.ts'
import { type TestRedis, startTestRedis, testConnection } from './redis-test-server.ts'

// The adapter alone, against a real redis-server: directory bookkeeping, lease expiry and
// re-registration. Connections here are real LocalConnection objects without a socket: they
// count what they are sent, which is what these tests look at.

let redis: TestRedis
let admin: Redis
const open: RedisNamespace[] = []
let prefixN = 0
let prefix = ''

beforeAll(async () => {
  redis = await startTestRedis()
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await admin.connect()
})
afterAll(async () => {
  admin.disconnect()
  await redis?.stop()
})
afterEach(async () => {
  await Promise.all(open.splice(0).map((ns) => ns.stop().catch(() => {})))
  prefixN++
})

async function node(id: string, opts: { ttlMs?: number; forward?: ForwardKind } = {}) {
  prefix = `test${prefixN}:`
  const ns = new RedisNamespace({
    config: {
      redisUrl: redis.url,
      redisPrefix: prefix,
      nodeTtlMs: opts.ttlMs ?? 1000,
      apiKeys: ['k'],
      maxBodyBytes: 1 << 20,
      shutdownTimeoutMs: 1000,
      replay: { events: 1000, ageMs: 300_000, topicBytes: 1 << 20, budgetBytes: 1 << 26 },
      lingerMs: 0,
      drainLingerMs: 0,
    },
    nodeId: id,
    counters: newCounters(),
    log: silentLogger,
    url: () => 'http://127.0.0.1:9',
    forward: opts.forward,
  })
  open.push(ns)
  await ns.start()
  return ns
}

const conn = testConnection

const topicHash = (t: string) => admin.hgetall(`${prefix}topic:${t}`)
const topicNames = () => admin.zrange(`${prefix}topics`, 0, -1)

/** Polls `fn` until it holds: for state that changes in Redis without an event to us. */
async function eventually(fn: () => Promise<boolean> | boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

describe('Redis directory', () => {
  it('records which nodes hold each topic, exactly, as connections come and go', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    const a1 = conn(a, ['orders', 'job:1'])
    const a2 = conn(a, ['orders'])
    const b1 = conn(b, ['orders'])
    await a.attach(a1)
    await a.attach(a2)
    await b.attach(b1)
    expect(await topicHash('orders')).toEqual({ 'node-a': '2', 'node-b': '1' })
    expect(await topicHash('job:1')).toEqual({ 'node-a': '1' })
    expect(await topicNames()).toEqual(['job:1', 'orders'])

    a1.close('test')
    await eventually(async () => (await topicNames()).length === 1, 'job:1 to go')
    expect(await topicHash('orders')).toEqual({ 'node-a': '1', 'node-b': '1' })
    a2.close('test') // the last connection of a topic on a node takes the node off the topic
    await eventually(async () => !('node-a' in (await topicHash('orders'))), 'node-a to leave')
    expect(await topicHash('orders')).toEqual({ 'node-b': '1' })
    b1.close('test') // the last node takes the topic away
    await eventually(async () => (await topicNames()).length === 0, 'orders to go')
    // What is left: the nodes, and each topic's position (it expires by itself).
    const left = (await admin.keys(`${prefix}*`)).sort()
    expect(left).toEqual([
      `${prefix}node-info`,
      `${prefix}node-stats`,
      `${prefix}nodes`,
      `${prefix}pos:job:1`,
      `${prefix}pos:orders`,
    ])
    expect(await admin.pttl(`${prefix}pos:orders`)).toBeGreaterThan(0)
  })

  it('answers "anyone listening?" for the whole cluster', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    await b.attach(conn(b, ['only-on-b']))
    expect(await a.get('only-on-b').probe()).toBe(true)
    expect(await a.get('nobody').probe()).toBe(false)
  })

  it('searches the connections of every node by topic prefix, id and user agent, across pages', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    const mine: LocalConnection[] = []
    for (let i = 0; i < 9; i++) {
      const ns = i % 2 ? b : a
      const c = conn(ns, [i % 3 ? `tenant/x/${i}` : `other:${i}`])
      await ns.attach(c)
      if (i % 3) mine.push(c)
    }
    const all = async (search: Record<string, string>) => {
      const ids: string[] = []
      let after: string | undefined
      for (let pages = 0; pages < 20; pages++) {
        const page = await a.listConnections({ after, limit: 2, topic: undefined, search })
        ids.push(...page.items.map((c) => c.id))
        after = page.next ?? page.items.at(-1)?.id
        if (!page.more) return ids
      }
      throw new Error('the search does not end')
    }
    expect(await all({ topicPrefix: 'tenant/x/' })).toEqual(mine.map((c) => c.id))
    const one = mine[3] as LocalConnection
    expect(await all({ id: one.id })).toEqual([one.id])
    expect(await all({ userAgent: 'UNIT', topicPrefix: 'other:' })).toHaveLength(3)
    expect(await all({ address: '10.' })).toEqual([])
  })

  it('lists connections of every node once, in id order, across pages', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    const conns: LocalConnection[] = []
    for (let i = 0; i < 7; i++) {
      const ns = i % 3 === 0 ? b : a
      const c = conn(ns, i % 2 ? ['odd', 'all'] : ['all'])
      conns.push(c)
      await ns.attach(c)
    }
    const seen: string[] = []
    let after: string | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = await b.listConnections({ after, limit: 3, topic: undefined })
      seen.push(...page.items.map((c) => c.id))
      after = page.items.at(-1)?.id
      if (!page.more) break
    }
    expect(seen).toEqual(conns.map((c) => c.id))
    const odd = await a.listConnections({ after: undefined, limit: 500, topic: 'odd' })
    expect(odd.items.map((c) => c.id)).toEqual(conns.filter((_, i) => i % 2).map((c) => c.id))
    expect(odd.items.map((c) => c.node)).toEqual(['node-a', 'node-b', 'node-a'])
    const topics = await a.listTopics({ after: undefined, limit: 1 })
    expect(topics).toEqual({
      items: [
        {
          topic: 'all',
          subscribers: 7,
          nodes: ['node-a', 'node-b'],
          window: { events: 0, bytes: 0 },
        },
      ],
      more: true,
    })
  })
})

describe('node leases', () => {
  it('takes a node that stopped renewing its lease off every topic within its TTL', async () => {
    const a = await node('node-a', { ttlMs: 1000 })
    const dead = await node('node-dead', { ttlMs: 1000 })
    await dead.attach(conn(dead, ['shared', 'mine']))
    await a.attach(conn(a, ['shared']))
    expect(await a.get('mine').probe()).toBe(true)
    // Like a SIGKILL: the node's Redis connection goes and it never renews its lease again.
    dead.redis.disconnect(false)
    // Within its TTL (1 s) and a heartbeat of the others; the bound leaves room for a busy CI.
    await eventually(async () => !(await a.get('mine').probe()), 'the dead node to expire', 5000)
    await eventually(
      async () =>
        (await topicNames()).join() === 'shared' && !(await admin.exists(`${prefix}topic:mine`)),
      'the dead node to be reaped',
    )
    expect(await topicHash('shared')).toEqual({ 'node-a': '1' })
    expect((await a.nodes()).map((n) => n.id)).toEqual(['node-a'])
    const conns = await a.listConnections({ after: undefined, limit: 10, topic: undefined })
    expect(conns.items.map((c) => c.node)).toEqual(['node-a'])
  })

  it('registers everything again when its entries were lost', async () => {
    const a = await node('node-a', { ttlMs: 1000 })
    await a.attach(conn(a, ['kept']))
    expect(await a.ready()).toEqual({ ready: true })
    await admin.flushall()
    await eventually(async () => (await topicHash('kept'))['node-a'] === '1', 're-registration')
    expect((await a.nodes()).map((n) => n.id)).toEqual(['node-a'])
  })

  it('keeps delivering locally while Redis is down, then heals routing when it is back', async () => {
    const a = await node('node-a', { ttlMs: 1000 })
    const b = await node('node-b', { ttlMs: 1000 })
    const onA = conn(a, ['t'])
    const onB = conn(b, ['t'])
    await a.attach(onA)
    await b.attach(onB)
    await redis.kill()
    await eventually(async () => !(await a.ready()).ready, 'a to say not ready')
    expect((await a.ready()).reason).toMatch(/Redis is unreachable/)
    expect(await a.get('t').probe()).toBe(true) // its own subscriber still counts
    expect(await a.get('t').publish(new EncodedEvent({ topic: 't', id: '1', data: 'x' }))).toBe(1)
    expect(onA.eventsSent).toBe(1)
    await redis.restart()
    await eventually(async () => (await a.ready()).ready && (await b.ready()).ready, 'both ready')
    expect(await topicHash('t')).toEqual({ 'node-a': '1', 'node-b': '1' })
    await a.get('t').publish(new EncodedEvent({ topic: 't', id: '2', data: 'y' }))
    await eventually(() => onB.eventsSent === 1, 'the event to reach node-b')
  })
})
