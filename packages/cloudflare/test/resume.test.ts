import { runInDurableObject } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ReplayWindow } from '../src/replay-window.ts'
import { TopicHub } from '../src/topic-hub.ts'
import { type Frame, collect, eventually, sseClient } from './helpers.ts'

const KEY = 'test-key'
const auth = { authorization: `Bearer ${KEY}` }
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`http://gateway${path}`, init))
const hub = (topic: string) => env.TOPIC_HUB.get(env.TOPIC_HUB.idFromName(topic))

async function publish(topic: string, id: string, body: string) {
  const res = await call('/publish', {
    method: 'POST',
    headers: { ...auth, 'x-sse-topic': topic, 'x-sse-id': id },
    body,
  })
  return (await res.json()) as { delivered: string[]; dropped: string[] }
}

const subscribe = async (query: string, headers: Record<string, string> = {}) =>
  sseClient(await call(`/sse?${query}`, { headers }))

const published = (f: Frame) => f.event === undefined
const gapOf = (f: Frame) => JSON.parse(f.data ?? '{}') as Record<string, unknown>

/** Waits until the topic object no longer holds connection `id` (a probe would count a drop). */
const left = (topic: string, id: string) =>
  eventually(async () => (await hub(topic).holds([id])).length === 0, `${id} to leave ${topic}`)

describe('ReplayWindow', () => {
  it('holds at most REPLAY_EVENTS, REPLAY_TOPIC_BYTES and REPLAY_AGE_MS of events, numbering every publish', async () => {
    await runInDurableObject(hub('window-bounds'), async (_o, state) => {
      let now = 1_000
      const w = new ReplayWindow(
        state.storage.sql,
        { events: 3, ageMs: 10_000, topicBytes: 1_024 },
        () => now,
      )
      expect(w.started).toBe(false)
      expect(w.skip()).toBe(false) // a topic never used: a drop writes nothing
      const epoch = w.position().epoch
      const all = { epoch, seq: 0 }
      for (let i = 1; i <= 5; i++) w.append({ id: `e${i}`, data: 'x' })
      let h = w.history(all)
      expect([h.last, h.events.map((e) => e.seq)]).toEqual([5, [3, 4, 5]])
      expect(h.events[0]).toEqual({ seq: 3, id: 'e3', event: undefined, data: 'x' })
      expect(w.size()).toEqual({ events: 3, bytes: 3 * (1 + 2 + 320) })
      w.append({ id: 'big', event: 'large', data: 'y'.repeat(300) }) // 628 bytes: one of 323 more fits
      expect(w.history(all).events.map((e) => e.id)).toEqual(['e5', 'big'])
      w.append({ id: 'huge', data: 'z'.repeat(2_000) }) // over the topic's bytes: numbered, not held
      expect(w.skip()).toBe(true) // a drop: numbered too
      h = w.history({ epoch, seq: 5 })
      expect([h.last, h.events.map((e) => e.id)]).toEqual([8, ['big']])
      now += 10_001
      expect(w.history(all)).toEqual({ epoch, last: 8, events: [] })
      expect(w.size()).toEqual({ events: 0, bytes: 0 })
      // Another epoch than the store's: everything it holds.
      w.append({ id: 'n1', data: 'x' })
      expect(w.history({ epoch: 'other', seq: 100 }).events.map((e) => e.seq)).toEqual([9])
    })
  })

  it('goes on numbering where it was when the object is rebuilt, whatever the last number was', async () => {
    await runInDurableObject(hub('window-rebuilt'), async (_o, state) => {
      let now = 1_000
      const limits = { events: 10, ageMs: 10_000, topicBytes: 2_048 }
      const make = () => new ReplayWindow(state.storage.sql, limits, () => now)
      const w = make()
      const { epoch } = w.position()
      w.append({ id: 'a', data: 'x' }) // 1, held: its row carries the number
      expect(make().position()).toEqual({ epoch, seq: 1 })
      w.skip() // 2, a drop
      expect(make().position()).toEqual({ epoch, seq: 2 })
      w.append({ id: 'big', data: 'z'.repeat(4_000) }) // 3, not held
      w.append({ id: 'b', data: 'x' }) // 4
      expect(make().position()).toEqual({ epoch, seq: 4 })
      now += 20_000 // every row ages out
      expect(w.size()).toEqual({ events: 0, bytes: 0 })
      const again = make()
      expect(again.position()).toEqual({ epoch, seq: 4 })
      expect(again.append({ id: 'c', data: 'x' }).seq).toBe(5)
    })
  })

  it('with REPLAY_EVENTS=0 keeps positions only', async () => {
    await runInDurableObject(hub('window-off'), async (_o, state) => {
      const w = new ReplayWindow(state.storage.sql, { events: 0, ageMs: 1_000, topicBytes: 1_024 })
      w.append({ id: 'a', data: 'x' })
      const p = w.append({ id: 'b', data: 'x' })
      expect(p.seq).toBe(2)
      expect(w.history({ epoch: p.epoch, seq: 0 })).toEqual({ epoch: p.epoch, last: 2, events: [] })
    })
  })
})

describe('resume over SSE', () => {
  it('replays what a single-topic subscriber missed, then the live stream, each event once', async () => {
    const topic = 'r-single'
    const keeper = await subscribe(`topic=${topic}`) // keeps the topic live meanwhile
    const sub = await subscribe(`topic=${topic}`)
    const [connected] = await sub.until((e) => e.length === 1, 'gateway.connected')
    expect(connected?.event).toBe('gateway.connected')
    expect(JSON.parse(connected?.data ?? '')).toMatchObject({ topics: [topic], resumed: false })
    await publish(topic, 'e1', 'one')
    await publish(topic, 'e2', 'two')
    const seen = await sub.until((e) => e.filter(published).length === 2, 'two events')
    const last = seen.at(-1)?.id as string
    expect(last.split('~')[0]).toBe('e2')
    await sub.close()
    await publish(topic, 'e3', 'three')
    await publish(topic, 'e4', 'four')

    const back = await subscribe(`topic=${topic}`, { 'last-event-id': last })
    let got = await back.until((e) => e.filter(published).length === 2, 'the replay')
    expect(got[0]).toEqual({
      event: 'gateway.connected',
      data: expect.stringContaining('"resumed":true'),
      id: `~${last.split('~')[1]}`, // the cursor it resumed from
    })
    await publish(topic, 'e5', 'five')
    got = await back.until((e) => e.filter(published).length === 3, 'the live event')
    expect(got.filter(published).map((f) => f.data)).toEqual(['three', 'four', 'five'])
    expect(got.some((f) => f.event === 'gateway.gap')).toBe(false)
    // The ids go on from where the client was: e3 is the event after e2.
    const seq = (id: string | undefined) => Number.parseInt(id?.split('-').at(-1) ?? '', 36)
    expect(got.filter(published).map((f) => seq(f.id))).toEqual(
      [3, 4, 5].map((n) => n + seq(last) - 2),
    )
    await back.close()
    await keeper.close()
  })

  it('says in-band how many events were dropped while nobody listened', async () => {
    const topic = 'r-dropped'
    const sub = await subscribe(`topic=${topic}`)
    await publish(topic, 'e1', 'one')
    const last = (await sub.until((e) => e.some(published), 'e1')).at(-1)?.id as string
    await sub.close()
    await left(topic, sub.id)
    expect((await publish(topic, 'lost1', 'x')).dropped).toEqual([topic])
    expect((await publish(topic, 'lost2', 'x')).dropped).toEqual([topic])
    const back = await subscribe(`topic=${topic}`, { 'last-event-id': last })
    const got = await back.until((e) => e.some((f) => f.event === 'gateway.gap'), 'the gap')
    const gap = got.find((f) => f.event === 'gateway.gap') as Frame
    expect(gapOf(gap)).toEqual({ reason: 'expired', topics: [topic], missed: { [topic]: 2 } })
    expect(gap.id?.startsWith('~1.')).toBe(true) // the cursor after the gap
    await publish(topic, 'e4', 'four')
    const live = await back.until((e) => e.some(published), 'the live event')
    expect(live.filter(published).map((f) => f.id?.split('~')[0])).toEqual(['e4'])
    await back.close()
  })

  it('resumes a multi-topic subscription on every topic, topic by topic, with the whole cursor', async () => {
    const keeper = await subscribe('topic=rm-a,rm-b')
    const sub = await subscribe('topic=rm-a,rm-b')
    await publish('rm-a,rm-b', 'both', 'x')
    const seen = await sub.until((e) => e.filter(published).length === 2, 'both topics')
    const last = seen.at(-1)?.id as string
    expect(last).toMatch(/^both~1\.\w+-\w+-1\.\w+-\w+-1$/)
    await sub.close()
    await publish('rm-b', 'b2', 'b-two')
    await publish('rm-a', 'a2', 'a-two')
    await publish('rm-b', 'b3', 'b-three')

    const back = await subscribe(`topic=rm-a,rm-b&lastEventId=${encodeURIComponent(last)}`)
    let got = await back.until((e) => e.filter(published).length === 3, 'the replay')
    expect(got.filter(published).map((f) => `${f.topic}:${f.data}`)).toEqual([
      'rm-a:a-two',
      'rm-b:b-two',
      'rm-b:b-three',
    ])
    const cursor = (f: Frame | undefined) => f?.id?.split('~')[1]
    expect(cursor(got.at(-1))).toMatch(/^1\.\w+-\w+-2\.\w+-\w+-3$/)
    await publish('rm-a,rm-b', 'live', 'y')
    got = await back.until((e) => e.filter(published).length === 5, 'the live events')
    expect(
      got
        .filter(published)
        .slice(3)
        .map((f) => f.topic)
        .sort(),
    ).toEqual(['rm-a', 'rm-b'])
    expect(cursor(got.at(-1))).toMatch(/^1\.\w+-\w+-3\.\w+-\w+-4$/)
    await back.close()
    await keeper.close()
  })

  it('names malformed cursors and topics the cursor does not know, then goes on from now', async () => {
    const keeper = await subscribe('topic=ru-a')
    await publish('ru-a', 'before', 'x')
    const bad = await subscribe('topic=ru-a&lastEventId=nonsense')
    let got = await bad.until((e) => e.length === 2, 'the gap')
    expect(gapOf(got[1] as Frame)).toEqual({ reason: 'malformed', topics: ['ru-a'] })
    const other = await subscribe('topic=ru-b', { 'last-event-id': got[1]?.id as string })
    got = await other.until((e) => e.length === 2, 'the gap')
    expect(gapOf(got[1] as Frame)).toEqual({ reason: 'unknown-topic', topics: ['ru-b'] })
    await publish('ru-a', 'after', 'y')
    expect((await bad.until((e) => e.some(published), 'live')).filter(published)).toHaveLength(1)
    await bad.close()
    await other.close()
    await keeper.close()
  })

  it('shows resume gaps to the tails and counts them with the replays in the stats', async () => {
    const topic = 'r-tailed'
    const tail = sseClient(await call(`/admin/api/topics/${topic}/tail`, { headers: auth }))
    const sub = await subscribe(`topic=${topic}&lastEventId=nonsense`)
    await sub.until((e) => e.length === 2, 'the gap')
    const gap = await tail.until((e) => e.some((f) => f.event === 'gap'), 'the tail')
    expect(JSON.parse(gap.find((f) => f.event === 'gap')?.data ?? '')).toMatchObject({
      topic,
      connectionId: expect.any(String),
      reason: 'malformed',
      missed: null,
    })
    await eventually(async () => {
      const stats = (await (await call('/admin/api/stats', { headers: auth })).json()) as {
        gaps: number
        replayed: number
      }
      return stats.gaps > 0 && stats.replayed > 0
    }, 'stats with gaps and replays')
    const listing = (await (
      await call(`/admin/api/topics?prefix=${topic}`, { headers: auth })
    ).json()) as {
      items: Array<{ topic: string; window: unknown }>
    }
    expect(listing.items).toEqual([
      expect.objectContaining({ topic, window: { events: 0, bytes: 0 } }),
    ])
    await sub.close()
    await tail.close()
  })
})

describe('resume over WebSocket', () => {
  it('replays every topic of the socket, each frame carrying the whole cursor', async () => {
    const keeper = await subscribe('topic=rw-a,rw-b')
    const open = async (q: string) => {
      const res = await call(`/ws?${q}`, { headers: { upgrade: 'websocket' } })
      const ws = res.webSocket as WebSocket
      ws.accept()
      return { ws, got: collect(ws) }
    }
    const first = await open('topic=rw-a,rw-b')
    await publish('rw-b', 'b1', 'one')
    const [connected, b1] = (await first.got.wait(2)).map((m) => JSON.parse(m))
    expect(connected).toMatchObject({ topic: null, event: 'gateway.connected', cursor: /^1\./ })
    expect(b1).toMatchObject({ topic: 'rw-b', id: 'b1', cursor: /^1\.\w+-\w+-0\.\w+-\w+-1$/ })
    first.ws.close(1000, 'bye')
    await publish('rw-a', 'a1', 'two')
    await publish('rw-b', 'b2', 'three')
    const again = await open(`topic=rw-a,rw-b&lastEventId=${encodeURIComponent(b1.cursor)}`)
    await publish('rw-a', 'a2', 'four')
    const frames = (await again.got.wait(4)).map((m) => JSON.parse(m))
    expect(frames.map((f) => f.event ?? f.id)).toEqual(['gateway.connected', 'a1', 'b2', 'a2'])
    expect(frames[0].cursor).toBe(b1.cursor) // a resumed connection: the cursor it resumed from
    expect(frames[3].cursor).toMatch(/^1\.\w+-\w+-2\.\w+-\w+-2$/)
    again.ws.close(1000, 'bye')
    await keeper.close()
  })
})

describe('LINGER_MS', () => {
  it('keeps a topic live after its last subscriber left, so a reconnect loses nothing', async () => {
    await runInDurableObject(hub('lingering'), async (_o, state) => {
      const h = new TopicHub(state, { ...env, LINGER_MS: '60000' })
      const sub = sseClient(
        await h.fetch(new Request('https://topic-hub/sse?topic=lingering&id=l1')),
      )
      await sub.until((e) => e.length === 1, 'the opening')
      const cursor = sub.events()[0]?.id as string
      await sub.close()
      await eventually(async () => h.holds(['l1']).length === 0, 'the subscriber to leave')
      expect(h.probe('lingering').live).toBe(true)
      await h.publish({ topic: 'lingering', id: 'kept', data: 'k' })
      const q = new URLSearchParams({
        topic: 'lingering',
        id: 'l2',
        resume: JSON.stringify({ topic: 'lingering', after: parseAfter(cursor) }),
      })
      const back = sseClient(await h.fetch(new Request(`https://topic-hub/sse?${q}`)))
      const got = await back.until((e) => e.some(published), 'the kept event')
      expect(got.filter(published).map((f) => f.id?.split('~')[0])).toEqual(['kept'])
      await back.close()
    })
  })
})

/** The position in a one-topic cursor (`~1.<hash>-<epoch>-<seq>`). */
function parseAfter(id: string): { epoch: string; seq: number } {
  const [, epoch, seq] = id.split('~')[1]?.split('.')[1]?.split('-') ?? []
  return { epoch: epoch as string, seq: Number.parseInt(seq as string, 36) }
}
