import {
  EncodedEvent,
  type LocalHub,
  type TopicHistory,
  type TopicPosition,
} from '@sse-gateway/core'
import { NODE_ENCODERS } from './frames.ts'

/**
 * How long an event that arrived ahead of a missing one waits for it before the window is
 * asked. Two publishes of one topic on two nodes reach a third in either order; the one behind
 * is usually there within a millisecond or two.
 */
export const HOLD_MS = 100

/** Reads a topic's history after a position (the window's script); undefined when it cannot. */
export type HistoryReader = (
  topic: string,
  after: TopicPosition,
) => Promise<TopicHistory | undefined>

interface Queue {
  /** Events ahead of the topic's next sequence number, by sequence number (the hub's epoch). */
  held: Map<number, EncodedEvent>
  timer: ReturnType<typeof setTimeout> | undefined
  /** A read of the window under way (a fill). */
  filling: Promise<void> | undefined
  /** Attaches that registered the topic before it had a position here, not yet answered. */
  waiting: number
  /** Their answers so far: the lowest position wins (the first to be read). */
  placeAt: TopicPosition | undefined
  /** Events that arrived while the topic had no position yet, in arrival order. */
  early: EncodedEvent[] | undefined
  /** Resolves when the topic gets its position (`early` written). */
  placed: Promise<void> | undefined
  onPlaced: (() => void) | undefined
}

/**
 * Delivers each topic's events to this node's subscribers in sequence order, whatever order
 * they arrive in (published here, forwarded from other nodes, read from the window). The hub's
 * position of a topic is the last sequence number delivered here: an event at or before it is a
 * duplicate; the next one is delivered; one further ahead is held until the missing ones come,
 * or for at most `HOLD_MS`, after which the missing ones are read from the window. What the
 * window no longer holds (trimmed, or never held) is passed over: the resume's gap accounting
 * covers it. A topic's position only ever moves by delivering events, except when it is placed
 * (its first subscriber here), so every subscriber of a topic on this node sees the same events.
 */
export class Sequencer {
  readonly #hub: LocalHub
  readonly #read: HistoryReader
  readonly #late: (delivered: number) => void
  readonly #holdMs: number
  readonly #queues = new Map<string, Queue>()

  /**
   * `late` counts the deliveries that `offer` does not return (held events written later, events
   * read from the window).
   */
  constructor(opts: {
    hub: LocalHub
    read: HistoryReader
    late: (delivered: number) => void
    holdMs?: number
  }) {
    this.#hub = opts.hub
    this.#read = opts.read
    this.#late = opts.late
    this.#holdMs = opts.holdMs ?? HOLD_MS
  }

  #queue(topic: string): Queue {
    let q = this.#queues.get(topic)
    if (!q) {
      q = {
        held: new Map(),
        timer: undefined,
        filling: undefined,
        waiting: 0,
        placeAt: undefined,
        early: undefined,
        placed: undefined,
        onPlaced: undefined,
      }
      this.#queues.set(topic, q)
    }
    return q
  }

  /** Events held for topics (tests, metrics). */
  get holding(): number {
    let n = 0
    for (const q of this.#queues.values()) n += q.held.size + (q.early?.length ?? 0)
    return n
  }

  /**
   * Delivers `ev` now, or holds it until the events before it are here. Returns how many local
   * subscribers it reached now (0 when held or a duplicate).
   */
  offer(ev: EncodedEvent): number {
    const { seq, epoch, topic } = ev
    if (seq === undefined || epoch === undefined) return this.#hub.publish(ev)
    const q = this.#queues.get(topic)
    if (q?.early) {
      q.early.push(ev)
      return 0
    }
    let pos = this.#hub.position(topic)
    // No position: no local subscriber has a place in the topic to keep (none, or Redis was
    // away when they came). The first event delivered gives it one.
    if (pos === undefined) return this.#hub.publish(ev)
    if (epoch !== pos.epoch) {
      // A new history of the topic (Redis lost it, or the topic was idle and forgotten): what
      // is held of the old one goes out first, then the new one starts from its beginning.
      if (q) this.#release(q, Number.POSITIVE_INFINITY)
      pos = { epoch, seq: 0 }
      this.#hub.setPosition(topic, pos)
    }
    if (seq <= pos.seq) return 0
    if (seq === pos.seq + 1) {
      const n = this.#hub.publish(ev)
      if (q) this.#drain(topic, q)
      return n
    }
    const held = q ?? this.#queue(topic)
    held.held.set(seq, ev)
    this.#arm(topic, held)
    return 0
  }

  #deliver(ev: EncodedEvent): void {
    this.#late(this.#hub.publish(ev))
  }

  #arm(topic: string, q: Queue): void {
    if (q.timer !== undefined || q.filling !== undefined || q.held.size === 0) return
    q.timer = setTimeout(() => {
      q.timer = undefined
      void this.#fill(topic, q)
    }, this.#holdMs)
    q.timer.unref?.()
  }

  /** Writes the held events that are next in line; forgets the queue once nothing is left. */
  #drain(topic: string, q: Queue): void {
    for (;;) {
      const pos = this.#hub.position(topic)
      if (pos === undefined) break
      for (const s of q.held.keys()) if (s <= pos.seq) q.held.delete(s)
      const next = q.held.get(pos.seq + 1)
      if (!next) break
      q.held.delete(pos.seq + 1)
      this.#deliver(next)
    }
    this.#tidy(topic, q)
  }

  #tidy(topic: string, q: Queue): void {
    if (q.held.size > 0) {
      this.#arm(topic, q)
      return
    }
    clearTimeout(q.timer)
    q.timer = undefined
    if (q.filling === undefined && q.waiting === 0 && q.early === undefined) {
      this.#queues.delete(topic)
    }
  }

  /** Writes held events up to `upTo` in order, passing over what is missing. */
  #release(q: Queue, upTo: number): void {
    const seqs = [...q.held.keys()].filter((s) => s <= upTo).sort((a, b) => a - b)
    for (const s of seqs) {
      const ev = q.held.get(s) as EncodedEvent
      q.held.delete(s)
      const pos = this.#hub.position(ev.topic)
      if (pos === undefined || pos.epoch !== ev.epoch || s > pos.seq) this.#deliver(ev)
    }
  }

  /**
   * Reads what the window holds after the topic's position and delivers it, merged with what is
   * held, in order; then passes over the numbers that are still missing up to where the window
   * stood (those will never come: trimmed, not held, or dropped).
   */
  #fill(topic: string, q: Queue): Promise<void> {
    if (q.filling) return q.filling
    clearTimeout(q.timer)
    q.timer = undefined
    const pos = this.#hub.position(topic)
    if (pos === undefined) {
      this.#release(q, Number.POSITIVE_INFINITY)
      this.#tidy(topic, q)
      return Promise.resolve()
    }
    const run = this.#read(topic, pos)
      .catch(() => undefined)
      .then((h) => {
        q.filling = undefined
        if (!this.#hub.has(topic)) {
          this.forget(topic)
          return
        }
        if (h === undefined || h.epoch === '') {
          // The window cannot say: deliver on.
          this.#release(q, Number.POSITIVE_INFINITY)
          this.#tidy(topic, q)
          return
        }
        let at = this.#hub.position(topic) ?? pos
        if (h.epoch !== at.epoch) {
          this.#release(q, Number.POSITIVE_INFINITY)
          at = { epoch: h.epoch, seq: 0 }
          this.#hub.setPosition(topic, at)
        }
        for (const e of h.events) {
          const cur = this.#hub.position(topic)
          if (cur !== undefined && cur.epoch === h.epoch && e.seq <= cur.seq) continue
          // Held events of lower numbers that the window no longer has go first.
          this.#release(q, e.seq - 1)
          const ev =
            q.held.get(e.seq) ??
            new EncodedEvent(
              { topic, ...e, event: e.event || undefined, epoch: h.epoch },
              NODE_ENCODERS,
            )
          q.held.delete(e.seq)
          this.#deliver(ev)
        }
        this.#release(q, h.last)
        this.#drain(topic, q)
      })
      .catch(() => {
        // Writes never throw (a sink closes itself); nothing is left to do here.
      })
    q.filling = run
    return run
  }

  /**
   * An attach is registering `topic` here: when the topic has no position on this node yet, its
   * events are held until `place` gives it one (from the same read as the attach's history).
   */
  begin(topic: string): void {
    if (this.#hub.position(topic) !== undefined) return
    const q = this.#queue(topic)
    if (q.waiting === 0 && q.early === undefined) {
      q.early = []
      q.placed = new Promise((resolve) => {
        q.onPlaced = resolve
      })
    }
    if (q.early !== undefined) q.waiting++
  }

  /**
   * The attach's read of `topic` answered (`at`: the store's position then; undefined when Redis
   * could not be read). A topic without a position gets one, and what arrived meanwhile is
   * delivered in order. A topic that had one, and stands behind `at`, is caught up from the
   * window first: when this resolves, every event up to `at` that the window holds has been
   * delivered here, so the node's position is never behind what the attach replays.
   */
  async place(topic: string, at: TopicPosition | undefined): Promise<void> {
    const q = this.#queues.get(topic)
    if (q?.early !== undefined && q.waiting > 0) {
      if (at !== undefined && (q.placeAt === undefined || at.seq < q.placeAt.seq)) q.placeAt = at
      q.waiting--
      if (q.waiting === 0) {
        const early = q.early
        q.early = undefined
        // A topic whose subscribers all left meanwhile keeps no position (the hub forgot it).
        if (q.placeAt !== undefined && this.#hub.has(topic)) this.#hub.setPosition(topic, q.placeAt)
        q.placeAt = undefined
        q.onPlaced?.()
        q.onPlaced = undefined
        q.placed = undefined
        early.sort((a, b) => (a.seq as number) - (b.seq as number))
        for (const ev of early) this.#late(this.offer(ev))
        this.#tidy(topic, q)
      } else {
        await q.placed
      }
    } else if (q?.placed) {
      await q.placed
    }
    if (at === undefined) return
    const pos = this.#hub.position(topic)
    if (pos === undefined || (pos.epoch === at.epoch && pos.seq >= at.seq)) return
    const fq = this.#queue(topic)
    await (fq.filling ?? this.#fill(topic, fq))
    const now = this.#hub.position(topic)
    // A fill that started before `at` was read may stop short of it: read once more.
    if (now !== undefined && now.epoch === at.epoch && now.seq < at.seq && this.#hub.has(topic)) {
      await this.#fill(topic, this.#queue(topic))
    }
  }

  /** The topic's last local subscriber left: nothing held for it is needed any more. */
  forget(topic: string): void {
    const q = this.#queues.get(topic)
    if (!q || q.waiting > 0) return
    clearTimeout(q.timer)
    q.held.clear()
    if (q.filling === undefined) this.#queues.delete(topic)
  }
}
