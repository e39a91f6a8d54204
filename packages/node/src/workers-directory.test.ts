import { describe, expect, it } from 'vitest'
import { mergeConnectionPages, WorkersDirectory } from './workers-directory.ts'
import { parseWorkers } from './workers-primary.ts'

const replay = { events: 3, ageMs: 60_000, topicBytes: 1_048_576, budgetBytes: 67_108_864 }
const node = (w: number) => `h-w${w}`

describe('WorkersDirectory', () => {
  it('says a topic went live on its first subscriber anywhere and dead on its last', () => {
    const d = new WorkersDirectory({ replay })
    expect(d.attach(1, ['a', 'b'])).toEqual(['a', 'b'])
    expect(d.attach(2, ['a'])).toEqual([])
    expect(d.isLive('a')).toBe(true)
    expect(d.detach(1, ['a', 'b'])).toEqual(['b'])
    expect(d.isLive('a')).toBe(true)
    expect(d.detach(2, ['a'])).toEqual(['a'])
    expect(d.liveTopics()).toEqual([])
    expect(d.connectionCount()).toBe(0)
  })

  it('keeps a topic live for LINGER_MS after its last subscriber left', () => {
    let now = 1_000
    const d = new WorkersDirectory({ replay, lingerMs: 500, now: () => now })
    d.attach(1, ['a'])
    expect(d.detach(1, ['a'])).toEqual([])
    expect(d.liveTopics()).toEqual(['a'])
    now += 499
    expect(d.expireLingering()).toEqual([])
    now += 1
    expect(d.expireLingering()).toEqual(['a'])
    expect(d.isLive('a')).toBe(false)
  })

  it('sequences one topic for the whole host and sends each event to the workers holding it', () => {
    const d = new WorkersDirectory({ replay })
    d.attach(2, ['a'])
    d.addTail(1, 'a')
    const first = d.publish({ topic: 'a', id: 'x', data: '1' })
    const second = d.publish({ topic: 'a', id: 'y', data: '2' })
    expect(first.to).toEqual([1, 2])
    expect(second.ev.seq).toBe((first.ev.seq as number) + 1)
    expect(second.ev.epoch).toBe(first.ev.epoch)
    // A drop takes a number: a resume counts it as missed.
    expect(d.drop('a')).toEqual([1])
    expect(d.publish({ topic: 'a', id: 'z', data: '3' }).ev.seq).toBe((second.ev.seq as number) + 2)
  })

  it('answers a resume from the host-wide window, whichever worker asks', () => {
    const d = new WorkersDirectory({ replay })
    d.attach(1, ['a'])
    const { ev } = d.publish({ topic: 'a', id: 'x', data: '1' })
    d.publish({ topic: 'a', id: 'y', data: '2' })
    const got = d.histories(
      ['a'],
      [{ topic: 'a', after: { epoch: ev.epoch as string, seq: ev.seq as number } }],
    )
    expect(got.map(([t]) => t)).toEqual(['a'])
    const h = got[0]?.[1]
    expect(h?.events.map((e) => e.id)).toEqual(['y'])
    expect(h?.last).toBe((ev.seq as number) + 1)
  })

  it('forgets a worker that died: topics it alone held go dead, shared ones stay', () => {
    const d = new WorkersDirectory({ replay })
    d.attach(1, ['only', 'shared'])
    d.attach(2, ['shared'])
    d.addTail(1, 'tailed')
    expect(d.removeWorker(1).sort()).toEqual(['only'])
    expect(d.holders('shared')).toEqual([2])
    expect(d.holders('tailed')).toEqual([])
    expect(d.connectionCount()).toBe(1)
    expect(d.presence('shared', node)).toMatchObject({
      subscribers: 1,
      nodes: [{ node: 'h-w2', subscribers: 1 }],
    })
  })

  it('lists topics across workers with their nodes and window', () => {
    const d = new WorkersDirectory({ replay })
    d.attach(2, ['b'])
    d.attach(1, ['b', 'a'])
    d.addTail(1, 'c')
    d.publish({ topic: 'b', id: 'x', data: '1' })
    const page = d.listTopics({ after: undefined, limit: 10, prefix: undefined }, node)
    expect(page.items.map((t) => [t.topic, t.subscribers, t.nodes, t.window?.events])).toEqual([
      ['a', 1, ['h-w1'], undefined],
      ['b', 2, ['h-w1', 'h-w2'], 1],
    ])
    expect(d.topicCount()).toBe(2)
  })
})

describe('mergeConnectionPages', () => {
  const c = (id: string) => ({ id })

  it('merges the workers pages by id and cuts at the limit', () => {
    const page = mergeConnectionPages(
      [
        { items: [c('a'), c('c')], more: false },
        { items: [c('b'), c('d')], more: false },
      ],
      3,
    )
    expect(page).toEqual({ items: [c('a'), c('b'), c('c')], more: true })
  })

  it('stops where a worker stopped, so the next page skips nothing', () => {
    const page = mergeConnectionPages(
      [
        { items: [c('a'), c('b')], more: true },
        { items: [c('c')], more: false },
      ],
      2,
    )
    // `c` is past the first worker's stop: it comes on the next page, after `b`.
    expect(page).toEqual({ items: [c('a'), c('b')], more: true })
    const searched = mergeConnectionPages(
      [
        { items: [], more: true, next: 'm' },
        { items: [c('k'), c('z')], more: false },
      ],
      5,
    )
    expect(searched).toEqual({ items: [c('k')], more: true, next: 'm' })
  })
})

describe('parseWorkers', () => {
  it('takes a count or auto, and refuses anything else by name', () => {
    expect(parseWorkers(undefined)).toBe(1)
    expect(parseWorkers('4')).toBe(4)
    expect(parseWorkers('auto')).toBeGreaterThanOrEqual(1)
    expect(() => parseWorkers('0')).toThrow(/WORKERS/)
    expect(() => parseWorkers('two')).toThrow(/WORKERS/)
  })
})
