import {
  EncodedEvent,
  LocalHub,
  type Sink,
  type TopicHistory,
  type TopicPosition,
} from '@sse-gateway/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { HOLD_MS, Sequencer } from './redis-sequencer.ts'

// Order of delivery on one node, whatever order a topic's events arrive in. The window is a
// stand-in here (what Redis would answer); redis-window.redis.test.ts covers the real one.

const E = 'ep0ch'

function event(seq: number, epoch = E): EncodedEvent {
  return new EncodedEvent({ topic: 't', id: `e${seq}`, data: `${seq}`, seq, epoch })
}

/** A subscriber that records the sequence numbers it is written. */
function recorder(): Sink & { seqs: number[]; gaps: number[] } {
  const seqs: number[] = []
  const gaps: number[] = []
  return {
    id: 'rec',
    seqs,
    gaps,
    write(ev) {
      seqs.push(ev.seq as number)
      return true
    },
    gap(_topic, missed) {
      gaps.push(missed)
    },
  }
}

let hub: LocalHub
let sub: ReturnType<typeof recorder>
let windowHolds: number[]
let windowLast: number
let reads: TopicPosition[]
let late: number
let seq: Sequencer

const read = async (_topic: string, after: TopicPosition): Promise<TopicHistory> => {
  reads.push(after)
  const events = windowHolds
    .filter((s) => after.epoch !== E || s > after.seq)
    .map((s) => ({ seq: s, id: `e${s}`, data: `${s}` }))
  return { epoch: E, last: windowLast, events }
}

beforeEach(() => {
  vi.useFakeTimers()
  hub = new LocalHub()
  sub = recorder()
  hub.add('t', sub)
  windowHolds = []
  windowLast = 0
  reads = []
  late = 0
  seq = new Sequencer({
    hub,
    read,
    late: (n) => {
      late += n
    },
  })
  hub.setPosition('t', { epoch: E, seq: 0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Sequencer', () => {
  it('delivers in order an event that arrived ahead of the one before it', () => {
    expect(seq.offer(event(2))).toBe(0)
    expect(sub.seqs).toEqual([])
    expect(seq.offer(event(1))).toBe(1)
    expect(sub.seqs).toEqual([1, 2])
    expect(late).toBe(1) // the held one, written after the offer that freed it
    expect(hub.position('t')).toEqual({ epoch: E, seq: 2 })
    expect(seq.holding).toBe(0)
  })

  it('writes a duplicate once (forwarded and read from the window)', () => {
    seq.offer(event(1))
    seq.offer(event(1))
    seq.offer(event(2))
    seq.offer(event(1))
    expect(sub.seqs).toEqual([1, 2])
  })

  it('reads a missing event from the window when it does not arrive in time', async () => {
    windowHolds = [1, 2, 3]
    windowLast = 3
    seq.offer(event(1))
    seq.offer(event(3)) // 2 was published on a node whose forward to us was lost
    await vi.advanceTimersByTimeAsync(HOLD_MS - 1)
    expect(sub.seqs).toEqual([1])
    await vi.advanceTimersByTimeAsync(1)
    expect(reads).toEqual([{ epoch: E, seq: 1 }])
    expect(sub.seqs).toEqual([1, 2, 3])
    seq.offer(event(2)) // the lost forward, late after all
    expect(sub.seqs).toEqual([1, 2, 3])
  })

  it('passes over what the window no longer holds, and keeps waiting for what is newer than it', async () => {
    windowHolds = [4]
    windowLast = 4
    seq.offer(event(4)) // 1-3 are gone from the window (trimmed, or never held)
    await vi.advanceTimersByTimeAsync(HOLD_MS)
    expect(sub.seqs).toEqual([4])
    // The live subscriber is told in-band what it will never get (1-3), not left to guess.
    expect(sub.gaps).toEqual([3])
    // 6 was appended after the window was read: 5 may still be on its way.
    windowHolds = [4, 5, 6]
    windowLast = 6
    seq.offer(event(6))
    expect(sub.seqs).toEqual([4])
    seq.offer(event(5))
    expect(sub.seqs).toEqual([4, 5, 6])
  })

  it('delivers on when the window cannot be read', async () => {
    seq = new Sequencer({
      hub,
      read: () => Promise.reject(new Error('Redis is away')),
      late: () => {},
    })
    seq.offer(event(2))
    seq.offer(event(4))
    await vi.advanceTimersByTimeAsync(HOLD_MS)
    expect(sub.seqs).toEqual([2, 4])
  })

  it('starts over with a new history (Redis lost the topic)', async () => {
    seq.offer(event(1))
    seq.offer(event(1, 'n3w'))
    seq.offer(event(2, 'n3w'))
    expect(sub.seqs).toEqual([1, 1, 2])
    expect(hub.position('t')).toEqual({ epoch: 'n3w', seq: 2 })
  })

  it('holds the events of a topic new here until its position is read, then writes what follows it', async () => {
    const fresh = recorder()
    hub.add('u', fresh)
    seq.begin('u')
    const ev = (s: number) =>
      new EncodedEvent({ topic: 'u', id: `${s}`, data: '', seq: s, epoch: E })
    seq.offer(ev(8))
    seq.offer(ev(7)) // appended before the registration: before this subscriber's time
    expect(fresh.seqs).toEqual([])
    await seq.place('u', { epoch: E, seq: 7 })
    expect(fresh.seqs).toEqual([8])
    expect(hub.position('u')).toEqual({ epoch: E, seq: 8 })
  })

  it("catches a topic already here up to an attach's read before the attach goes on", async () => {
    seq.offer(event(1))
    windowHolds = [1, 2, 3]
    windowLast = 3
    // 2 and 3 are still on their way here when a new subscriber's read says the topic is at 3.
    await seq.place('t', { epoch: E, seq: 3 })
    expect(sub.seqs).toEqual([1, 2, 3])
    seq.offer(event(2))
    seq.offer(event(3))
    expect(sub.seqs).toEqual([1, 2, 3])
  })

  it('forgets what it held for a topic whose last subscriber left', async () => {
    seq.offer(event(3))
    hub.remove('t', sub)
    seq.forget('t')
    expect(seq.holding).toBe(0)
    await vi.advanceTimersByTimeAsync(HOLD_MS)
    expect(reads).toEqual([])
  })
})
