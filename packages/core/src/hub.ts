import { type TopicPosition, encodeCursor } from './cursor.ts'
import { type CursorScope, type EncodedEvent, SINGLE_TOPIC } from './event.ts'
import { formatEvent } from './sse.ts'

const encoder = new TextEncoder()

/** A subscriber's connection as the hub sees it. */
export interface Sink {
  readonly id: string
  /**
   * Writes the event's pre-encoded bytes without waiting. A sink over its buffer bound closes
   * itself (slow consumer) and returns false; it must never throw.
   */
  write(ev: EncodedEvent): boolean
  /**
   * Events of `topic` numbered after `at` up to the next one delivered were lost on their way to
   * this node (`missed` of them): the sink tells its client in-band (`gateway.gap`), cursor `at`.
   */
  gap?(topic: string, missed: number, at: TopicPosition): void
}

/** An admin tail: receives pre-framed SSE bytes, does not count as a subscriber. */
export interface TailSink {
  writeRaw(bytes: Uint8Array): void
}

/** Called when a topic gains its first or loses its last local subscriber (or tail). */
export interface HubHooks {
  firstSubscriber?(topic: string): void
  lastSubscriber?(topic: string): void
  firstTail?(topic: string): void
  lastTail?(topic: string): void
}

/** SSE frame a tail receives for a delivered event. */
export function tailPublishFrame(ev: EncodedEvent, subscribers: number): Uint8Array {
  const data = JSON.stringify({
    topic: ev.topic,
    id: ev.id,
    event: ev.event ?? null,
    data: ev.data,
    subscribers,
    time: new Date().toISOString(),
  })
  return encoder.encode(formatEvent({ event: 'publish', id: ev.id, data }))
}

/** SSE frame a tail receives for a dropped publish: topic and id only, never the body. */
export function tailDropFrame(topic: string, id: string): Uint8Array {
  const data = JSON.stringify({ topic, id, dropped: true, time: new Date().toISOString() })
  return encoder.encode(formatEvent({ event: 'drop', id, data }))
}

/** SSE frame a tail receives when a resuming connection was told it missed events of the topic. */
export function tailGapFrame(
  topic: string,
  gap: { connectionId: string; reason: string; missed?: number | undefined },
): Uint8Array {
  const data = JSON.stringify({
    topic,
    connectionId: gap.connectionId,
    reason: gap.reason,
    missed: gap.missed ?? null,
    time: new Date().toISOString(),
  })
  return encoder.encode(formatEvent({ event: 'gap', data }))
}

/** SSE frame a tail receives when a resuming connection was sent held events of the topic. */
export function tailReplayFrame(
  topic: string,
  replay: { connectionId: string; replayed: number },
): Uint8Array {
  const data = JSON.stringify({
    topic,
    connectionId: replay.connectionId,
    replayed: replay.replayed,
    time: new Date().toISOString(),
  })
  return encoder.encode(formatEvent({ event: 'replay', data }))
}

/**
 * The local subscribers of every topic on this node, and the fan-out to them. A topic exists
 * while it has a subscriber: the last `remove` deletes it from every map, leaving nothing behind.
 */
export class LocalHub {
  readonly #topics = new Map<string, Set<Sink>>()
  readonly #tails = new Map<string, Set<TailSink>>()
  /** Where each live topic stands on this node: the last event delivered, or the store's position at subscribe. */
  readonly #positions = new Map<string, TopicPosition>()
  readonly #hooks: HubHooks

  constructor(hooks: HubHooks = {}) {
    this.#hooks = hooks
  }

  add(topic: string, sink: Sink): void {
    const sinks = this.#topics.get(topic)
    if (sinks) {
      sinks.add(sink)
      return
    }
    this.#topics.set(topic, new Set([sink]))
    this.#hooks.firstSubscriber?.(topic)
  }

  remove(topic: string, sink: Sink): void {
    const sinks = this.#topics.get(topic)
    if (!sinks?.delete(sink)) return
    if (sinks.size === 0) {
      this.#topics.delete(topic)
      this.#positions.delete(topic)
      this.#hooks.lastSubscriber?.(topic)
    }
  }

  addTail(topic: string, tail: TailSink): void {
    const tails = this.#tails.get(topic)
    if (tails) {
      tails.add(tail)
      return
    }
    this.#tails.set(topic, new Set([tail]))
    this.#hooks.firstTail?.(topic)
  }

  removeTail(topic: string, tail: TailSink): void {
    const tails = this.#tails.get(topic)
    if (!tails?.delete(tail)) return
    if (tails.size === 0) {
      this.#tails.delete(topic)
      this.#hooks.lastTail?.(topic)
    }
  }

  has(topic: string): boolean {
    return this.#topics.has(topic)
  }

  hasTail(topic: string): boolean {
    return this.#tails.has(topic)
  }

  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0
  }

  get topicCount(): number {
    return this.#topics.size
  }

  /** Live topic names (unsorted). */
  topics(): IterableIterator<string> {
    return this.#topics.keys()
  }

  tailTopics(): IterableIterator<string> {
    return this.#tails.keys()
  }

  /** Where `topic` stands on this node (undefined: not live here, or its store has not said). */
  position(topic: string): TopicPosition | undefined {
    return this.#positions.get(topic)
  }

  /** Records the store's position of a live topic (at subscribe), unless an event already moved it. */
  setPosition(topic: string, pos: TopicPosition): void {
    const cur = this.#positions.get(topic)
    if (cur === undefined || cur.epoch !== pos.epoch || cur.seq < pos.seq) {
      this.#positions.set(topic, pos)
    }
  }

  /**
   * The cursor scope of a subscription to `topics` on this node: single-topic subscribers share
   * the event's own cursor; those of several topics share one per topic list, made from where
   * each of the topics stands here (every subscriber of a topic on this node got the same events).
   */
  scopeFor(topics: readonly string[]): CursorScope {
    if (topics.length === 1) return SINGLE_TOPIC
    const positions = this.#positions
    return {
      key: topics.join(','),
      cursor: (ev) =>
        encodeCursor(topics, (t) =>
          t === ev.topic && ev.seq !== undefined && ev.epoch !== undefined
            ? { epoch: ev.epoch, seq: ev.seq }
            : positions.get(t),
        ),
    }
  }

  /** Writes the event to every local subscriber of its topic, then to its tails. */
  publish(ev: EncodedEvent): number {
    const sinks = this.#topics.get(ev.topic)
    let n = 0
    if (ev.seq !== undefined && ev.epoch !== undefined && sinks) {
      const pos = this.#positions.get(ev.topic)
      if (pos !== undefined && pos.epoch === ev.epoch && ev.seq > pos.seq + 1) {
        // Numbers were passed over on the way here (a cluster node whose missing events the
        // window no longer had): loss is said, never silent.
        const at = { epoch: ev.epoch, seq: ev.seq - 1 }
        for (const sink of sinks) sink.gap?.(ev.topic, ev.seq - pos.seq - 1, at)
      }
      this.#positions.set(ev.topic, { epoch: ev.epoch, seq: ev.seq })
    }
    if (sinks) {
      // A sink may remove itself while we iterate (slow consumer): Set iteration tolerates that.
      for (const sink of sinks) if (sink.write(ev)) n++
    }
    const tails = this.#tails.get(ev.topic)
    if (tails) {
      const frame = tailPublishFrame(ev, n)
      for (const t of tails) t.writeRaw(frame)
    }
    return n
  }

  /** Writes a pre-framed notice (a resume's gap) to the local tails of `topic`. */
  tailNotice(topic: string, frame: Uint8Array): void {
    const tails = this.#tails.get(topic)
    if (!tails) return
    for (const t of tails) t.writeRaw(frame)
  }

  /** Tells the local tails of `topic` that a publish was dropped. */
  publishDrop(topic: string, id: string): void {
    const tails = this.#tails.get(topic)
    if (!tails) return
    const frame = tailDropFrame(topic, id)
    for (const t of tails) t.writeRaw(frame)
  }
}
