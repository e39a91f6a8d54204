import {
  EncodedEvent,
  type LocalHub,
  type Logger,
  tailDropFrame,
  tailPublishFrame,
} from '@sse-gateway/core'
import type { Counters } from './connection.ts'
import { NODE_ENCODERS } from './frames.ts'
import type { ClusterMessage } from './forward.ts'
import type { RedisDirectory, Route } from './redis-directory.ts'
import { RouteCache } from './redis-routes.ts'
import { TailSet } from './redis-tails.ts'

export interface DeliveryDeps {
  nodeId: string
  hub: LocalHub
  dir: RedisDirectory
  /** True while the Redis connection is up. */
  online: () => boolean
  /** Hands a message to another node (the forwarder). */
  send: (node: string, msg: ClusterMessage) => Promise<boolean>
  /** Closes one of this node's connections; false when it has none by that id. */
  kick: (id: string) => boolean
  counters: Counters
  log: Logger
}

/**
 * The publish path of a cluster node: decide (one lookup), deliver locally, forward once to
 * each other node that holds subscribers or tails of the topic; and the receiving end of it.
 */
export class ClusterDelivery {
  /** This node's admin tails (kept out of the hub: their frames carry the cluster's count). */
  readonly tails = new TailSet()
  readonly #routes = new RouteCache()
  readonly #o: DeliveryDeps

  constructor(deps: DeliveryDeps) {
    this.#o = deps
  }

  /**
   * "Anyone listening?" for the whole cluster: one lookup, which the publish then reuses. A
   * topic with subscribers here is live at once (the lookup goes on, for the forwarding); while
   * Redis is away, this node's own subscribers decide.
   */
  async probe(topic: string): Promise<boolean> {
    const { hub, dir, nodeId } = this.#o
    if (!this.#o.online()) return hub.has(topic)
    const lookup = dir.lookup(topic)
    this.#routes.put(topic, lookup)
    if (hub.has(topic)) {
      lookup.catch(() => {}) // reported by the publish that takes it
      return true
    }
    try {
      for (const node of (await lookup).subscribers.keys()) if (node !== nodeId) return true
    } catch (err) {
      this.#o.log.warn({ err: String(err), topic }, 'lookup failed: no local subscriber')
    }
    return false
  }

  /** The route of a topic: the probe's lookup, or a new one; undefined while Redis is away. */
  async #route(topic: string): Promise<Route | undefined> {
    const lookup = this.#routes.take(topic) ?? (this.#o.online() ? this.#o.dir.lookup(topic) : null)
    try {
      return (await lookup) ?? undefined
    } catch (err) {
      this.#o.log.warn({ err: String(err), topic }, 'lookup failed: local delivery only')
      return undefined
    }
  }

  async publish(ev: EncodedEvent): Promise<number> {
    const local = this.#o.hub.publish(ev)
    const route = await this.#route(ev.topic)
    let total = local
    const targets = new Set<string>()
    for (const [node, n] of route?.subscribers ?? []) {
      if (node === this.#o.nodeId) continue
      targets.add(node)
      total += n
    }
    for (const node of route?.tails ?? []) if (node !== this.#o.nodeId) targets.add(node)
    this.tails.write(ev.topic, () => tailPublishFrame(ev, total))
    if (targets.size > 0) {
      const msg: ClusterMessage = { k: 'event', ...pick(ev), subscribers: total }
      await Promise.all([...targets].map((node) => this.#o.send(node, msg)))
    }
    return local
  }

  async drop(topic: string, id: string): Promise<void> {
    this.tails.write(topic, () => tailDropFrame(topic, id))
    const others = ((await this.#route(topic))?.tails ?? []).filter((n) => n !== this.#o.nodeId)
    await Promise.all(others.map((n) => this.#o.send(n, { k: 'drop', topic, id })))
  }

  /** A message from another node; the result answers a kick (was the connection here?). */
  receive(msg: ClusterMessage): boolean {
    if (msg.k === 'event') {
      const ev = new EncodedEvent(msg, NODE_ENCODERS)
      this.#o.counters.delivered += this.#o.hub.publish(ev)
      this.tails.write(ev.topic, () => tailPublishFrame(ev, msg.subscribers))
      return true
    }
    if (msg.k === 'drop') {
      this.tails.write(msg.topic, () => tailDropFrame(msg.topic, msg.id))
      return true
    }
    return this.#o.kick(msg.conn)
  }
}

function pick(ev: EncodedEvent) {
  return { topic: ev.topic, id: ev.id, event: ev.event, data: ev.data }
}
