import { type TopicPosition, newEpoch } from './cursor.ts'
import type { StoredEvent, TopicHistory } from './resume.ts'

/** The replay window's bounds (REPLAY_* settings). `events: 0` keeps positions, no events. */
export interface ReplayLimits {
  /** Events held per topic. */
  events: number
  /** Events older than this are let go. */
  ageMs: number
  /** Bytes held per topic (body, id and type, counted in UTF-16 code units, plus 320 an event). */
  topicBytes: number
  /** Bytes held by all topics of this store together: the oldest go first past it. */
  budgetBytes: number
}

interface Held extends StoredEvent {
  time: number
  bytes: number
}

/** What one held event costs the heap beyond its strings (measured: bench/scripts/replay-memory.ts). */
const OVERHEAD = 320

/** One topic's history in memory: its epoch, the last sequence number given, the held events. */
class TopicLog {
  readonly epoch = newEpoch()
  last = 0
  /** Held events, oldest first, from `head` on (shifting an array is O(n): the head moves instead). */
  events: Held[] = []
  head = 0
  bytes = 0
  /** When the log was last written or read by a subscriber: an idle log is forgotten after the age bound. */
  touched: number

  constructor(now: number) {
    this.touched = now
  }

  get size(): number {
    return this.events.length - this.head
  }

  first(): Held | undefined {
    return this.events[this.head]
  }

  /** Lets the oldest event go; returns its bytes. */
  shift(): number {
    const e = this.events[this.head]
    if (!e) return 0
    this.events[this.head] = undefined as unknown as Held
    this.head++
    if (this.head > 64 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head)
      this.head = 0
    }
    this.bytes -= e.bytes
    return e.bytes
  }
}

/**
 * The replay windows of every topic of one process (the memory namespace's store): bounded per
 * topic by count, age and bytes, and all together by a byte budget, oldest first. Sequence
 * numbers are dense per topic and epoch: a publish takes the next one, and so does a drop
 * (`skip`), so a resume can count exactly what a client missed.
 */
export class ReplayStore {
  readonly #logs = new Map<string, TopicLog>()
  readonly #limits: ReplayLimits
  readonly #now: () => number
  /** Every held event in append order, for the budget: [log, seq, bytes]. */
  #order: Array<[TopicLog, number, number] | undefined> = []
  #orderHead = 0
  #bytes = 0
  /** Events held by all topics: when `#order` is much longer, it is compacted. */
  #held = 0

  constructor(limits: ReplayLimits, now: () => number = Date.now) {
    this.#limits = limits
    this.#now = now
  }

  /** Bytes held by all topics. */
  get bytes(): number {
    return this.#bytes
  }

  /** Topics with a log (a position, maybe events). */
  get topics(): number {
    return this.#logs.size
  }

  #log(topic: string): TopicLog {
    let log = this.#logs.get(topic)
    if (!log) {
      log = new TopicLog(this.#now())
      this.#logs.set(topic, log)
    }
    return log
  }

  /** The topic's current position, creating its log (a new epoch) when it has none. */
  position(topic: string): TopicPosition {
    const log = this.#log(topic)
    log.touched = this.#now()
    return { epoch: log.epoch, seq: log.last }
  }

  /** Held events and bytes of one topic (admin listings). */
  windowOf(topic: string): { events: number; bytes: number } | undefined {
    const log = this.#logs.get(topic)
    if (!log) return undefined
    this.#trimAge(log)
    return { events: log.size, bytes: log.bytes }
  }

  /** Gives the event the topic's next sequence number and holds it within the bounds. */
  append(
    topic: string,
    ev: { id: string; event?: string | undefined; data: string },
  ): TopicPosition {
    const log = this.#log(topic)
    const now = this.#now()
    log.touched = now
    const seq = ++log.last
    const limits = this.#limits
    if (limits.events > 0) {
      const bytes = ev.data.length + ev.id.length + (ev.event?.length ?? 0) + OVERHEAD
      if (bytes <= limits.topicBytes && bytes <= limits.budgetBytes) {
        log.events.push({ seq, id: ev.id, event: ev.event, data: ev.data, time: now, bytes })
        log.bytes += bytes
        this.#bytes += bytes
        this.#order.push([log, seq, bytes])
        this.#held++
        while (log.size > limits.events || log.bytes > limits.topicBytes) this.#let(log)
        this.#trimAge(log)
        this.#trimBudget()
      }
    }
    return { epoch: log.epoch, seq }
  }

  /** A publish dropped for want of a subscriber: its number is taken, so a resume counts it as missed. */
  skip(topic: string): void {
    const log = this.#logs.get(topic)
    if (log) log.last++
  }

  /** The topic's history after `after` (see `TopicHistory`). */
  history(topic: string, after: TopicPosition | undefined): TopicHistory {
    const log = this.#log(topic)
    log.touched = this.#now()
    this.#trimAge(log)
    const events: StoredEvent[] = []
    if (after !== undefined) {
      const from = after.epoch === log.epoch ? after.seq : 0
      for (let i = log.head; i < log.events.length; i++) {
        const e = log.events[i] as Held
        if (e.seq > from) events.push({ seq: e.seq, id: e.id, event: e.event, data: e.data })
      }
    }
    return { epoch: log.epoch, last: log.last, events }
  }

  /**
   * Forgets the logs of topics that are not live and were not touched within the age bound:
   * their events are past the window anyway. A client that comes back later is told `reset`.
   */
  sweep(isLive: (topic: string) => boolean): void {
    const cutoff = this.#now() - this.#limits.ageMs
    for (const [topic, log] of this.#logs) {
      this.#trimAge(log)
      if (log.touched < cutoff && log.size === 0 && !isLive(topic)) this.#logs.delete(topic)
    }
    this.#maybeCompact()
  }

  #trimAge(log: TopicLog): void {
    const cutoff = this.#now() - this.#limits.ageMs
    for (let e = log.first(); e !== undefined && e.time < cutoff; e = log.first()) {
      this.#let(log)
    }
  }

  /** Lets the log's oldest event go. */
  #let(log: TopicLog): void {
    this.#bytes -= log.shift()
    this.#held--
  }

  #trimBudget(): void {
    while (this.#bytes > this.#limits.budgetBytes && this.#orderHead < this.#order.length) {
      const entry = this.#order[this.#orderHead]
      this.#order[this.#orderHead++] = undefined
      if (!entry) continue
      const [log, seq] = entry
      // Its own bounds may have let it go already; otherwise it is the log's oldest.
      if (log.first()?.seq === seq) this.#let(log)
    }
    this.#maybeCompact()
  }

  #maybeCompact(): void {
    if (this.#order.length - this.#orderHead > 2 * this.#held + 1024) this.#compact()
  }

  #compact(): void {
    this.#order = this.#order
      .slice(this.#orderHead)
      .filter((e) => e !== undefined && (e[0].first()?.seq ?? Number.POSITIVE_INFINITY) <= e[1])
    this.#orderHead = 0
  }
}
