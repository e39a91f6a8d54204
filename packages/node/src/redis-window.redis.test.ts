import { type ReplayLimits, planReplay } from '@sse-gateway/core'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RedisDirectory } from './redis-directory.ts'
import { clusterKeys, createRedis } from './redis-scripts.ts'
import { type TestRedis, startTestRedis } from './redis-test-server.ts'
import { RedisWindow } from './redis-window.ts'
import { ENTRY_OVERHEAD } from './redis-window-scripts.ts'

// The replay window in a real redis-server: sequence numbers, epochs, the three bounds, drops
// counted by the lookup, and what a resume reads back.

let server: TestRedis
let redis: Redis
let n = 0
let keys: ReturnType<typeof clusterKeys>

beforeAll(async () => {
  server = await startTestRedis()
  redis = createRedis(server.url, 'window-test')
  await redis.connect()
})
afterAll(async () => {
  redis?.disconnect()
  await server?.stop()
})
beforeEach(() => {
  n++
  keys = clusterKeys(`w${n}:`)
})

const DEFAULTS: ReplayLimits = { events: 1000, ageMs: 300_000, topicBytes: 1 << 20, budgetBytes: 0 }

function window(limits: Partial<ReplayLimits> = {}, posTtlMs = 60_000): RedisWindow {
  return new RedisWindow({ redis, keys, limits: { ...DEFAULTS, ...limits }, posTtlMs })
}

const append = (w: RedisWindow, i: number, data = `${i}`, topic = 't') =>
  w.append({ topic, id: `e${i}`, data })

describe('Redis replay window', () => {
  it('numbers the events of a topic densely in one epoch, and reads back those after a position', async () => {
    const w = window()
    const got = []
    for (let i = 1; i <= 5; i++) got.push(await append(w, i))
    expect(got.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5])
    const epoch = got[0]?.epoch as string
    expect(epoch).toMatch(/^[0-9a-z]{8}$/)
    expect(new Set(got.map((a) => a.epoch))).toEqual(new Set([epoch]))
    expect((await append(w, 1, 'x', 'other')).seq).toBe(1) // numbers are per topic
    const h = await w.read('t', { epoch, seq: 3 })
    expect(h).toEqual({
      epoch,
      last: 5,
      events: [
        { seq: 4, id: 'e4', event: undefined, data: '4' },
        { seq: 5, id: 'e5', event: undefined, data: '5' },
      ],
    })
    // A cursor into another history gets everything held.
    expect((await w.read('t', { epoch: 'zzzz', seq: 4 }))?.events.map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5,
    ])
    expect(await redis.xlen(keys.window('t'))).toBe(5)
  })

  it('keeps the event type and multi-line data as published', async () => {
    const w = window()
    const a = await w.append({ topic: 't', id: 'x', event: 'order.paid', data: 'a\nb' })
    const h = await w.read('t', { epoch: a.epoch, seq: 0 })
    expect(h?.events).toEqual([{ seq: 1, id: 'x', event: 'order.paid', data: 'a\nb' }])
  })

  it('holds at most REPLAY_EVENTS events: the oldest go, and a resume is told how many it missed', async () => {
    const w = window({ events: 3 })
    let epoch = ''
    for (let i = 1; i <= 5; i++) epoch = (await append(w, i)).epoch
    expect(await redis.xlen(keys.window('t'))).toBe(3)
    const h = await w.read('t', { epoch, seq: 0 })
    expect(h?.events.map((e) => e.seq)).toEqual([3, 4, 5])
    const plan = planReplay(['t'], [{ topic: 't', after: { epoch, seq: 0 } }], new Map([['t', h!]]))
    expect(plan.items[0]).toMatchObject({
      kind: 'gap',
      gap: { reason: 'expired', topics: ['t'], missed: { t: 2 } },
    })
    expect(plan.replayed).toBe(3)
  })

  it('holds at most REPLAY_TOPIC_BYTES, counting what it holds exactly', async () => {
    const size = (data: string, id: string) => data.length + id.length + ENTRY_OVERHEAD
    const data = 'x'.repeat(300)
    const w = window({ topicBytes: 1024 })
    for (let i = 1; i <= 6; i++) await append(w, i, data)
    // Each event is 300 + 2 + 64 = 366 bytes: two fit in 1024.
    expect(await redis.xlen(keys.window('t'))).toBe(2)
    expect(await redis.hget(keys.pos('t'), 'bytes')).toBe(`${2 * size(data, 'e1')}`)
    // One larger than the bound is delivered but never held: its number is still taken.
    const big = await append(w, 7, 'y'.repeat(2000))
    expect(big.seq).toBe(7)
    expect(await redis.xlen(keys.window('t'))).toBe(2)
  })

  it('lets events older than REPLAY_AGE_MS go, and the window key expires with them', async () => {
    const w = window({ ageMs: 300 })
    const { epoch } = await append(w, 1)
    expect(await redis.pttl(keys.window('t'))).toBeGreaterThan(0)
    expect(await redis.pttl(keys.window('t'))).toBeLessThanOrEqual(300)
    // Read as a resume would: past the age, the event is no longer offered...
    const deadline = Date.now() + 5000
    while ((await w.read('t', { epoch, seq: 0 }))?.events.length !== 0) {
      if (Date.now() > deadline) throw new Error('the event never aged out')
      await new Promise((r) => setTimeout(r, 25))
    }
    // ...and the next append trims it (if the key has not expired already).
    await append(w, 2)
    expect(await redis.xlen(keys.window('t'))).toBe(1)
    expect((await w.read('t', { epoch, seq: 0 }))?.last).toBe(2)
  })

  it('with REPLAY_EVENTS=0 keeps positions and holds nothing', async () => {
    const w = window({ events: 0 })
    const a = await append(w, 1)
    const b = await append(w, 2)
    expect([a.seq, b.seq]).toEqual([1, 2])
    expect(await redis.exists(keys.window('t'))).toBe(0)
    expect(await w.read('t', { epoch: a.epoch, seq: 0 })).toEqual({
      epoch: a.epoch,
      last: 2,
      events: [],
    })
  })

  it('takes a number for a publish dropped by the lookup, only when the topic has a position', async () => {
    const dir = new RedisDirectory(redis, keys, 'node-x')
    expect((await dir.lookup('t', true)).subscribers.size).toBe(0)
    expect(await redis.exists(keys.pos('t'))).toBe(0) // never seen: nothing to count
    const w = window()
    const { epoch } = await append(w, 1)
    await dir.lookup('t', true)
    await dir.lookup('t', true)
    await dir.lookup('t') // a lookup that does not decide a drop counts nothing
    expect((await append(w, 4)).seq).toBe(4)
    const h = await w.read('t', { epoch, seq: 1 })
    expect(h?.events.map((e) => e.seq)).toEqual([4])
    const plan = planReplay(['t'], [{ topic: 't', after: { epoch, seq: 1 } }], new Map([['t', h!]]))
    expect(plan.items[0]).toMatchObject({
      kind: 'gap',
      gap: { reason: 'expired', missed: { t: 2 } },
    })
  })

  it('starts a new epoch when Redis lost the topic, and a resume into the old one is told reset', async () => {
    const w = window()
    const old = await append(w, 1)
    await append(w, 2)
    await redis.flushall()
    const fresh = await append(w, 3)
    expect(fresh.seq).toBe(1)
    expect(fresh.epoch).not.toBe(old.epoch)
    const h = await w.read('t', { epoch: old.epoch, seq: 2 })
    expect(h?.events.map((e) => e.id)).toEqual(['e3'])
    const plan = planReplay(
      ['t'],
      [{ topic: 't', after: { epoch: old.epoch, seq: 2 } }],
      new Map([['t', h!]]),
    )
    expect(plan.items.map((i) => (i.kind === 'gap' ? i.gap.reason : i.event.id))).toEqual([
      'reset',
      'e3',
    ])
  })

  it('gives a topic a position when a subscriber reads it first, and renews its expiry', async () => {
    const w = window({}, 5000)
    const reads = [{ topic: 'new', after: undefined }]
    const m = redis.multi()
    w.readInto(m, reads)
    const res = await m.exec()
    const h = w.parse(reads, res?.[0]?.[1]).get('new')
    expect(h).toMatchObject({ last: 0, events: [] })
    expect(h?.epoch).toMatch(/^[0-9a-z]{8}$/)
    expect((await append(w, 1, 'x', 'new')).epoch).toBe(h?.epoch) // the publish continues it
    expect(await redis.pttl(keys.pos('new'))).toBeGreaterThan(4000)
    await redis.pexpire(keys.pos('new'), 100)
    await w.touch(['new'])
    expect(await redis.pttl(keys.pos('new'))).toBeGreaterThan(4000)
    // A node's read to fill a hole creates nothing.
    expect((await w.read('never', { epoch: 'abc', seq: 0 }))?.epoch).toBe('')
    expect(await redis.exists(keys.pos('never'))).toBe(0)
  })
})
