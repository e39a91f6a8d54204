import type { EncodedEvent } from './event.ts'
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

/**
 * The local subscribers of every topic on this node, and the fan-out to them. A topic exists
 * while it has a subscriber: the last `remove` deletes it from every map, leaving nothing behind.
 */
export class LocalHub {
  readonly #topics = new Map<string, Set<Sink>>()
  readonly #tails = new Map<string, Set<TailSink>>()
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

  /** Writes the event to every local subscriber of its topic, then to its tails. */
  publish(ev: EncodedEvent): number {
    const sinks = this.#topics.get(ev.topic)
    let n = 0
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

  /** Tells the local tails of `topic` that a publish was dropped. */
  publishDrop(topic: string, id: string): void {
    const tails = this.#tails.get(topic)
    if (!tails) return
    const frame = tailDropFrame(topic, id)
    for (const t of tails) t.writeRaw(frame)
  }
}
