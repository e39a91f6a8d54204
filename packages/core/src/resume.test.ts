import { describe, expect, it } from 'vitest'
import {
  encodeCursor,
  parseCursor,
  publisherIdOf,
  type TopicPosition,
  topicHash,
} from './cursor.ts'
import { EncodedEvent } from './event.ts'
import { LocalHub } from './hub.ts'
import { ReplayStore } from './replay.ts'
import { coveredBy, planReplay, resumeAsks, type TopicHistory } from './resume.ts'
import { validateEventType } from './topics.ts'

const limits = { events: 3, ageMs: 60_000, topicBytes: 10_000, budgetBytes: 100_000 }

describe('resume cursors', () => {
  it('round-trips the positions of several topics, with or without the publisher part', () => {
    const c = encodeCursor(['a', 'b'], (t) =>
      t === 'a' ? { epoch: 'e1', seq: 40 } : { epoch: 'e2', seq: 0 },
    )
    for (const raw of [c, `order-7~${c}`]) {
      const parsed = parseCursor(raw)
      expect(parsed.ok).toBe(true)
      if (!parsed.ok) return
      expect(parsed.positions.get(topicHash('a'))).toEqual({ epoch: 'e1', seq: 40 })
      expect(parsed.positions.get(topicHash('b'))).toEqual({ epoch: 'e2', seq: 0 })
    }
    expect(publisherIdOf(`order-7~${c}`)).toBe('order-7')
  })

  it('calls anything it did not write malformed, and never throws', () => {
    for (const raw of [
      '',
      '42',
      'x~2.a-b-c',
      '1.a-b',
      '1.A-b-1',
      '1.a-b-1.',
      `1.${'a'.repeat(5000)}`,
      '1.a-b-zzzzzzzzzzzz',
      '~~',
      '1..',
    ]) {
      expect(parseCursor(raw)).toEqual({ ok: false, reason: 'malformed' })
    }
  })

  it('asks for nothing without Last-Event-ID, and names topics the cursor does not cover', () => {
    expect(resumeAsks(['a'], undefined)).toBeUndefined()
    const c = encodeCursor(['a'], () => ({ epoch: 'e', seq: 1 }))
    expect(resumeAsks(['a', 'b'], c)).toEqual([
      { topic: 'a', after: { epoch: 'e', seq: 1 } },
      { topic: 'b', gap: 'unknown-topic' },
    ])
    expect(resumeAsks(['a'], 'nonsense')).toEqual([{ topic: 'a', gap: 'malformed' }])
  })
})

describe('ReplayStore', () => {
  it('numbers events densely per topic, drops included, and keeps the newest within the count', () => {
    const store = new ReplayStore(limits)
    const start = store.position('t')
    for (let i = 1; i <= 5; i++) store.append('t', { id: `${i}`, data: 'x' })
    store.skip('t')
    const h = store.history('t', start)
    expect(h.last).toBe(6)
    expect(h.events.map((e) => e.seq)).toEqual([3, 4, 5])
  })

  it('lets events older than the age bound go', () => {
    let now = 1_000_000
    const store = new ReplayStore(limits, () => now)
    const start = store.position('t')
    store.append('t', { id: '1', data: 'old' })
    now += 61_000
    store.append('t', { id: '2', data: 'new' })
    expect(store.history('t', start).events.map((e) => e.id)).toEqual(['2'])
  })

  it('keeps all topics within the byte budget, oldest first', () => {
    const store = new ReplayStore({ ...limits, events: 100, budgetBytes: 1_600 })
    const a = store.position('a')
    const b = store.position('b')
    for (let i = 0; i < 4; i++) store.append('a', { id: `a${i}`, data: 'x'.repeat(30) })
    for (let i = 0; i < 4; i++) store.append('b', { id: `b${i}`, data: 'x'.repeat(30) })
    expect(store.bytes).toBeLessThanOrEqual(1_600)
    expect(store.history('a', a).events.length).toBeLessThan(4)
    expect(store.history('b', b).events.map((e) => e.id)).toEqual(['b0', 'b1', 'b2', 'b3'])
  })

  it('keeps positions but no events when the window is off', () => {
    const store = new ReplayStore({ ...limits, events: 0 })
    const start = store.position('t')
    store.append('t', { id: '1', data: 'x' })
    expect(store.history('t', start)).toMatchObject({ last: 1, events: [] })
    expect(store.bytes).toBe(0)
  })

  it('forgets idle topics that are not live, so a later resume hears `reset`', () => {
    let now = 0
    const store = new ReplayStore(limits, () => now)
    const { epoch } = store.position('t')
    now += 120_000
    store.sweep(() => false)
    expect(store.topics).toBe(0)
    expect(store.position('t').epoch).not.toBe(epoch)
  })
})

describe('planReplay', () => {
  const h = (epoch: string, last: number, seqs: number[]): TopicHistory => ({
    epoch,
    last,
    events: seqs.map((seq) => ({ seq, id: `id${seq}`, data: `d${seq}` })),
  })

  it('replays each topic in order with cursors that resume right after each event', () => {
    const plan = planReplay(
      ['a', 'b'],
      [
        { topic: 'a', after: { epoch: 'e', seq: 1 } },
        { topic: 'b', after: { epoch: 'f', seq: 0 } },
      ],
      new Map([
        ['a', h('e', 3, [2, 3])],
        ['b', h('f', 1, [1])],
      ]),
    )
    expect(
      plan.items.map((i) => (i.kind === 'event' ? `${i.event.topic}${i.event.seq}` : 'gap')),
    ).toEqual(['a2', 'a3', 'b1'])
    const last = plan.items.at(-1)
    expect(last?.cursor).toBe(
      encodeCursor(['a', 'b'], (t) =>
        t === 'a' ? { epoch: 'e', seq: 3 } : { epoch: 'f', seq: 1 },
      ),
    )
    expect(plan.gaps).toBe(0)
  })

  it('counts what expired, says it first, and replays the rest', () => {
    const plan = planReplay(
      ['a'],
      [{ topic: 'a', after: { epoch: 'e', seq: 2 } }],
      new Map([['a', h('e', 10, [8, 9, 10])]]),
    )
    expect(plan.items[0]).toMatchObject({
      kind: 'gap',
      gap: { reason: 'expired', topics: ['a'], missed: { a: 5 } },
    })
    // After the gap the cursor points just before what is still held: a reconnect does not repeat it.
    expect(plan.items[0]?.cursor).toBe(encodeCursor(['a'], () => ({ epoch: 'e', seq: 7 })))
    expect(plan.replayed).toBe(3)
  })

  it('says reset when the epoch changed, and malformed or unknown topics continue from now', () => {
    const plan = planReplay(
      ['a', 'b'],
      [
        { topic: 'a', after: { epoch: 'old', seq: 4 } },
        { topic: 'b', gap: 'unknown-topic' },
      ],
      new Map([
        ['a', h('new', 1, [1])],
        ['b', h('f', 9, [])],
      ]),
    )
    expect(
      plan.items.filter((i) => i.kind === 'gap').map((i) => i.kind === 'gap' && i.gap.reason),
    ).toEqual(['reset', 'unknown-topic'])
    expect(plan.positions.get('b')).toEqual({ epoch: 'f', seq: 9 })
    expect(plan.positions.get('a')).toEqual({ epoch: 'new', seq: 1 })
  })

  it('moves past drops that follow the last held event, so a reconnect does not repeat the gap', () => {
    const plan = planReplay(
      ['a'],
      [{ topic: 'a', after: { epoch: 'e', seq: 1 } }],
      new Map([['a', h('e', 6, [2, 3, 4])]]),
    )
    expect(plan.items[0]).toMatchObject({
      kind: 'gap',
      gap: { reason: 'expired', missed: { a: 2 } },
    })
    expect(plan.positions.get('a')).toEqual({ epoch: 'e', seq: 6 })
    expect(plan.items.at(-1)?.cursor).toBe(encodeCursor(['a'], () => ({ epoch: 'e', seq: 6 })))
  })

  it('has nothing to say when nothing was missed', () => {
    const plan = planReplay(
      ['a'],
      [{ topic: 'a', after: { epoch: 'e', seq: 4 } }],
      new Map([['a', h('e', 4, [])]]),
    )
    expect(plan.items).toEqual([])
  })

  it('skips live events the replay already wrote', () => {
    const positions = new Map([['a', { epoch: 'e', seq: 4 }]])
    expect(coveredBy(positions, { topic: 'a', epoch: 'e', seq: 4 })).toBe(true)
    expect(coveredBy(positions, { topic: 'a', epoch: 'e', seq: 5 })).toBe(false)
    expect(coveredBy(positions, { topic: 'a', epoch: 'x', seq: 1 })).toBe(false)
  })
})

describe('reserved event types', () => {
  it('refuses a publish with a gateway.* type', () => {
    expect(() => validateEventType('gateway.gap')).toThrow(/reserved/)
    expect(validateEventType('gateways')).toBe('gateways')
  })
})

describe('LocalHub', () => {
  it('tells its sinks when numbers of a topic were passed over on the way, and from where', () => {
    const hub = new LocalHub()
    const gaps: Array<[string, number, TopicPosition]> = []
    const got: number[] = []
    hub.add('t', {
      id: 'c1',
      write: (ev) => {
        got.push(ev.seq as number)
        return true
      },
      gap: (topic, missed, at) => gaps.push([topic, missed, at]),
    })
    hub.setPosition('t', { epoch: 'e', seq: 3 })
    const ev = (seq: number) =>
      new EncodedEvent({ topic: 't', id: `i${seq}`, data: '', seq, epoch: 'e' })
    hub.publish(ev(4))
    hub.publish(ev(7))
    expect(got).toEqual([4, 7])
    expect(gaps).toEqual([['t', 2, { epoch: 'e', seq: 6 }]])
  })
})
