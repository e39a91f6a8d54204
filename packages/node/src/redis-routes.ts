import type { Route } from './redis-directory.ts'

/** How long a route looked up by a publish's probe may serve that publish's delivery. */
const REUSE_MS = 1000
/** Past this many entries, stale ones are swept before adding (refused requests leave some). */
const SWEEP_AT = 1024

/**
 * Lookups started by the "anyone listening?" probe, kept for the delivery (or the drop) of the
 * same publish, so that a publish costs one Redis round trip in all, and a topic with local
 * subscribers is delivered to them without waiting for Redis. A route is a snapshot
 * taken after the request arrived, so every subscriber registered before the publish is in it.
 * Each route is taken once; when two publishes of one topic overlap, the second looks up again.
 */
export class RouteCache {
  readonly #byTopic = new Map<string, { route: Promise<Route>; at: number }>()

  put(topic: string, route: Promise<Route>): void {
    if (this.#byTopic.size >= SWEEP_AT) {
      const now = performance.now()
      for (const [t, e] of this.#byTopic) if (now - e.at > REUSE_MS) this.#byTopic.delete(t)
    }
    this.#byTopic.set(topic, { route, at: performance.now() })
  }

  take(topic: string): Promise<Route> | undefined {
    const e = this.#byTopic.get(topic)
    if (!e) return undefined
    this.#byTopic.delete(topic)
    return performance.now() - e.at <= REUSE_MS ? e.route : undefined
  }
}
