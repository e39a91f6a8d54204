import { appendAnswered, appendSent } from './append-gate.ts'
import {
  type Config,
  type GatewayEvent,
  type StoredEvent,
  type TopicHistory,
  type TopicPosition,
  newEpoch,
} from '@sse-gateway/core'
import type { ChainableCommander, Redis } from 'ioredis'
import { type Route, routeOf } from './redis-directory.ts'
import type { ClusterKeys } from './redis-scripts.ts'

/** An event's place in its topic, and where it must go, as the append answered. */
export interface Appended {
  seq: number
  epoch: string
  route: Route
}

/** One topic's history to read: after a position (a resume), or the position alone. */
export interface WindowRead {
  topic: string
  after: TopicPosition | undefined
}

type RawHistory = [string, number, string[]]

/** Position keys of topics touched per pipeline when their expiry is renewed. */
const TOUCH_BATCH = 1000

/**
 * The cluster's replay windows in Redis: each topic's sequence numbers and epoch (`pos:<t>`)
 * and its window (`window:<t>`, a Redis Stream) bounded by REPLAY_EVENTS, REPLAY_AGE_MS and
 * REPLAY_TOPIC_BYTES. Every node appends to it and reads from it, so any node can replay what
 * a client missed on another. A window expires REPLAY_AGE_MS after its last append (its events
 * are all past the age bound by then); a position expires `posTtlMs` after it was last used,
 * and is renewed while a node holds the topic.
 */
export class RedisWindow {
  readonly #redis: Redis
  readonly #k: ClusterKeys
  readonly #limits: Config['replay']
  readonly #posTtl: string

  constructor(opts: {
    redis: Redis
    keys: ClusterKeys
    limits: Config['replay']
    /** How long a position outlives its last use. */
    posTtlMs: number
  }) {
    this.#redis = opts.redis
    this.#k = opts.keys
    this.#limits = opts.limits
    this.#posTtl = `${opts.posTtlMs}`
  }

  /**
   * Gives the event its topic's next sequence number and keeps it in the window, in one script
   * that also answers the topic's route at that instant.
   */
  append(ev: GatewayEvent): Promise<Appended> {
    // Counted for the writes that wait for the appends in flight (append-gate.ts).
    appendSent()
    return new Promise<Appended>((resolve, reject) => {
      if (this.#appends.length === 0) setImmediate(this.#sendAppends)
      this.#appends.push({ ev, resolve, reject })
    })
  }

  /**
   * The appends asked for during one turn of the event loop, sent together once its I/O is
   * done: one write to Redis (ioredis pipelines the commands of one tick), whose answers come
   * back in one read. Sent in the order asked, so one publisher's events keep their order.
   */
  #appends: Array<{
    ev: GatewayEvent
    resolve: (a: Appended) => void
    reject: (err: unknown) => void
  }> = []
  readonly #sendAppends = (): void => {
    const batch = this.#appends
    this.#appends = []
    // Answered or failed, each append leaves the count of those in flight.
    for (const a of batch) this.#appendNow(a.ev).finally(appendAnswered).then(a.resolve, a.reject)
  }

  async #appendNow(ev: GatewayEvent): Promise<Appended> {
    const k = this.#k
    const l = this.#limits
    const t = ev.topic
    const [seq, epoch, subs, tails] = await this.#redis.sseAppend(
      k.nodes,
      k.topic(t),
      k.tails(t),
      k.pos(t),
      k.window(t),
      newEpoch(),
      `${l.events}`,
      `${l.ageMs}`,
      `${l.topicBytes}`,
      this.#posTtl,
      ev.id,
      ev.event ?? '',
      ev.data,
    )
    return { seq: Number(seq), epoch, route: routeOf(subs, tails) }
  }

  #historyArgs(reads: readonly WindowRead[], create: boolean): string[] {
    const k = this.#k
    const keys: string[] = []
    const asks: string[] = []
    for (const r of reads) {
      keys.push(k.pos(r.topic), k.window(r.topic))
      asks.push(r.after?.epoch ?? '', `${r.after?.seq ?? 0}`)
    }
    const head = [newEpoch(), this.#posTtl, `${this.#limits.ageMs}`, create ? '1' : '0']
    return [`${keys.length}`, ...keys, ...head, ...asks]
  }

  /**
   * Adds the read of `reads` to a transaction (an attach's registration): each topic gets a
   * position when it has none, its expiry is renewed, and a resume gets the events after its
   * cursor. `parse` reads the transaction's answer.
   */
  readInto(m: ChainableCommander, reads: readonly WindowRead[]): void {
    m.sseHistory(...this.#historyArgs(reads, true))
  }

  /** The histories of `reads` from the answer of `readInto`'s command. */
  parse(reads: readonly WindowRead[], raw: unknown): Map<string, TopicHistory> {
    const out = new Map<string, TopicHistory>()
    const list = raw as RawHistory[]
    for (const [i, r] of reads.entries()) {
      const h = list[i]
      if (h) out.set(r.topic, historyOf(h))
    }
    return out
  }

  /**
   * What the window holds of `topic` after `after` (a node filling a hole in what it received).
   * The epoch is '' when the topic has no position any more.
   */
  async read(topic: string, after: TopicPosition): Promise<TopicHistory | undefined> {
    const raw = await this.#redis.sseHistory(...this.#historyArgs([{ topic, after }], false))
    const h = raw[0]
    return h ? historyOf(h) : undefined
  }

  /** Renews the expiry of the positions of topics this node holds (each tick). */
  async touch(topics: readonly string[]): Promise<void> {
    for (let i = 0; i < topics.length; i += TOUCH_BATCH) {
      const p = this.#redis.pipeline()
      for (const t of topics.slice(i, i + TOUCH_BATCH)) p.pexpire(this.#k.pos(t), this.#posTtl)
      await p.exec()
    }
  }
}

function historyOf([epoch, last, flat]: RawHistory): TopicHistory {
  const events: StoredEvent[] = []
  for (let i = 0; i + 3 < flat.length; i += 4) {
    const ev = flat[i + 2] as string
    events.push({
      seq: Number(flat[i]),
      id: flat[i + 1] as string,
      event: ev === '' ? undefined : ev,
      data: flat[i + 3] as string,
    })
  }
  return { epoch, last: Number(last), events }
}
