import { type Config, type Sink, planReplay, silentLogger } from '@sse-gateway/core'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { newCounters } from './connection.ts'
import { RedisNamespace } from './redis-namespace.ts'
import { clusterKeys } from './redis-scripts.ts'
import { type TestRedis, startTestRedis, testConnection } from './redis-test-server.ts'
import { RedisWindow } from './redis-window.ts'
import { defineWindowScripts } from './redis-window-scripts.ts'

// Resume across a cluster of namespaces on one real redis-server: what an attach reads, the
// order each node delivers in, drops counted, Redis losing its data, lingering and draining.

let redis: TestRedis
let admin: Redis
const open: RedisNamespace[] = []
let run = 0
const prefix = () => `resume${run}:`

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
  run++
})

const REPLAY: Config['replay'] = {
  events: 1000,
  ageMs: 300_000,
  topicBytes: 1 << 20,
  budgetBytes: 1 << 26,
}

async function node(id: string, opts: { lingerMs?: number; drainLingerMs?: number } = {}) {
  const ns = new RedisNamespace({
    config: {
      redisUrl: redis.url,
      redisPrefix: prefix(),
      nodeTtlMs: 1000,
      apiKeys: ['k'],
      maxBodyBytes: 1 << 20,
      shutdownTimeoutMs: 1000,
      replay: REPLAY,
      lingerMs: opts.lingerMs ?? 0,
      drainLingerMs: opts.drainLingerMs ?? 0,
    },
    nodeId: id,
    counters: newCounters(),
    log: silentLogger,
    url: () => 'http://127.0.0.1:9',
  })
  open.push(ns)
  await ns.start()
  return ns
}

const conn = testConnection

/** A subscriber of one topic on a node's hub that records what it is written, in order. */
function recorder(ns: RedisNamespace, topic: string): { ids: string[] } {
  const ids: string[] = []
  const sink: Sink = {
    id: `rec-${topic}`,
    write(ev) {
      ids.push(ev.id)
      return true
    },
  }
  ns.hub.add(topic, sink)
  return { ids }
}

async function eventually(fn: () => Promise<boolean> | boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

const pub = (ns: RedisNamespace, topic: string, id: string) =>
  ns.get(topic).publish({ topic, id, data: id })

describe('resume in a cluster', () => {
  it('replays on node B what a client missed of events published on node A', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    await a.attach(conn(a, ['keep'])) // keeps the topic live while the client is away
    const first = conn(b, ['keep', 'other'])
    const h0 = await b.attach(first)
    const at = h0.get('keep')
    expect(at).toMatchObject({ last: 0, events: [] })
    first.close('away')
    for (const id of ['e1', 'e2', 'e3']) await pub(a, 'keep', id)
    const asks = [
      { topic: 'keep', after: { epoch: at!.epoch, seq: 1 } },
      { topic: 'other', after: { epoch: h0.get('other')!.epoch, seq: 0 } },
    ]
    const back = conn(b, ['keep', 'other'])
    const h = await b.attach(back, asks)
    expect(h.get('keep')?.events.map((e) => e.id)).toEqual(['e2', 'e3'])
    expect(h.get('other')).toMatchObject({ last: 0, events: [] })
    const plan = planReplay(back.topics, asks, h)
    expect(plan.replayed).toBe(2)
    expect(plan.gaps).toBe(0)
  })

  it('delivers forwarded events in sequence order, and reads a lost forward from the window', async () => {
    const c = await node('node-c')
    const sub = conn(c, ['t'])
    const { epoch } = (await c.attach(sub)).get('t')!
    const rec = recorder(c, 't')
    // Other nodes' publishes, as Redis numbered them; their forwards reach node-c out of order.
    const w = new RedisWindow({
      redis: admin,
      keys: clusterKeys(prefix()),
      limits: REPLAY,
      posTtlMs: 60_000,
    })
    defineWindowScripts(admin)
    const channel = `${prefix()}node:node-c`
    const forward = (seq: number, id: string) =>
      admin.publish(
        channel,
        JSON.stringify({ k: 'event', topic: 't', id, data: id, seq, epoch, subscribers: 1 }),
      )
    for (const id of ['x1', 'x2', 'x3', 'x4']) await w.append({ topic: 't', id, data: id })
    await forward(2, 'x2')
    await forward(1, 'x1')
    await eventually(() => rec.ids.length === 2, 'x1 and x2')
    expect(rec.ids).toEqual(['x1', 'x2'])
    // x3's forward is lost (its node died after appending): x4 waits, then x3 is read back.
    await forward(4, 'x4')
    await eventually(() => rec.ids.length === 4, 'x3 read from the window, then x4')
    expect(rec.ids).toEqual(['x1', 'x2', 'x3', 'x4'])
    expect(sub.eventsSent).toBe(4)
  })

  it('counts a publish dropped while nobody held the topic, for the client that comes back', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    const lone = conn(b, ['lone'])
    const { epoch } = (await b.attach(lone)).get('lone')!
    await pub(a, 'lone', 'kept')
    lone.close('away')
    await eventually(async () => !(await a.get('lone').probe()), 'the topic to be dropped')
    expect(await a.get('lone').probe()).toBe(false)
    const asks = [{ topic: 'lone', after: { epoch, seq: 1 } }]
    const h = await a.attach(conn(a, ['lone']), asks)
    expect(planReplay(['lone'], asks, h).items[0]).toMatchObject({
      kind: 'gap',
      gap: { reason: 'expired', missed: { lone: 2 } },
    })
  })

  it('tells a resume `reset` after Redis lost its data, and live subscribers go on in the new history', async () => {
    const a = await node('node-a')
    const b = await node('node-b')
    const onB = conn(b, ['t'])
    const { epoch } = (await b.attach(onB)).get('t')!
    const rec = recorder(b, 't')
    await pub(a, 't', 'before')
    await eventually(() => rec.ids.length === 1, 'the first event')
    await admin.flushall()
    await eventually(async () => (await admin.hlen(`${prefix()}topic:t`)) === 1, 're-registration')
    await pub(a, 't', 'after')
    await eventually(() => rec.ids.length === 2, 'the event of the new history')
    const asks = [{ topic: 't', after: { epoch, seq: 1 } }]
    const h = await a.attach(conn(a, ['t']), asks)
    expect(h.get('t')?.epoch).not.toBe(epoch)
    const plan = planReplay(['t'], asks, h)
    expect(plan.items.map((i) => (i.kind === 'gap' ? i.gap.reason : i.event.id))).toEqual([
      'reset',
      'after',
    ])
  })

  it('keeps a topic live LINGER_MS after its last subscriber left, so what is published is kept', async () => {
    const a = await node('node-a')
    const b = await node('node-b', { lingerMs: 60_000 })
    const sub = conn(b, ['solo'])
    const { epoch } = (await b.attach(sub)).get('solo')!
    sub.close('away')
    await eventually(
      async () => (await admin.hget(`${prefix()}topic:solo`, 'node-b')) === '0',
      'node-b to linger on the topic',
    )
    expect(await a.get('solo').probe()).toBe(true)
    await pub(a, 'solo', 'while-away')
    expect((await a.listTopics({ after: undefined, limit: 10 })).items).toEqual([])
    const asks = [{ topic: 'solo', after: { epoch, seq: 0 } }]
    const h = await a.attach(conn(a, ['solo']), asks)
    expect(h.get('solo')?.events.map((e) => e.id)).toEqual(['while-away'])
  })

  it('drains without dropping: topics stay registered until another node holds them', async () => {
    const a = await node('node-a')
    const b = await node('node-b', { drainLingerMs: 30_000 })
    const onB = conn(b, ['moving'])
    const { epoch } = (await b.attach(onB)).get('moving')!
    b.drain()
    onB.close('shutting down')
    const stopped = b.stop()
    await eventually(
      async () => (await admin.hget(`${prefix()}topic:moving`, 'node-b')) === '0',
      'node-b to keep the topic registered',
    )
    // The client is between nodes: the publish is kept, not dropped.
    expect(await a.get('moving').probe()).toBe(true)
    await pub(a, 'moving', 'in-between')
    // It reconnects on node A and resumes; node B then lets go and leaves.
    const asks = [{ topic: 'moving', after: { epoch, seq: 0 } }]
    const h = await a.attach(conn(a, ['moving']), asks)
    expect(h.get('moving')?.events.map((e) => e.id)).toEqual(['in-between'])
    await stopped
    expect(await admin.hgetall(`${prefix()}topic:moving`)).toEqual({ 'node-a': '1' })
    expect(await admin.zscore(`${prefix()}nodes`, 'node-b')).toBeNull()
  })
})
