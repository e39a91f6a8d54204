import type { TailSink } from '@sse-gateway/core'

/**
 * This node's admin tails, by topic. Kept apart from the hub in a cluster: a tail frame carries
 * the subscriber count of the whole cluster, which only the node that took the publish knows.
 */
export class TailSet {
  readonly #byTopic = new Map<string, Set<TailSink>>()

  /** Adds a tail; true when it is the topic's first on this node. */
  add(topic: string, tail: TailSink): boolean {
    const tails = this.#byTopic.get(topic)
    if (tails) {
      tails.add(tail)
      return false
    }
    this.#byTopic.set(topic, new Set([tail]))
    return true
  }

  /** Removes a tail; true when it was the topic's last on this node. */
  remove(topic: string, tail: TailSink): boolean {
    const tails = this.#byTopic.get(topic)
    if (!tails?.delete(tail) || tails.size > 0) return false
    this.#byTopic.delete(topic)
    return true
  }

  /** Writes one frame, built only when the topic has a tail here, to each of its tails. */
  write(topic: string, frame: () => Uint8Array): void {
    const tails = this.#byTopic.get(topic)
    if (!tails) return
    const bytes = frame()
    for (const t of tails) t.writeRaw(bytes)
  }

  topics(): IterableIterator<string> {
    return this.#byTopic.keys()
  }
}
