import {
  BROADCAST_TOPIC,
  EncodedEvent,
  EncodedMessage,
  type GatewayEvent,
  type LocalHub,
  type Logger,
  tailDropFrame,
  tailPublishFrame,
} from '@sse-gateway/core'
import type { Counters } from './connection.ts'
import type { ClusterMessage } from './forward.ts'
import { NODE_ENCODERS } from './frames.ts'
import type { RedisDirectory, Route } from './redis-directory.ts'
import { RouteCache } from './redis-routes.ts'
import type { Sequencer } from './redis-sequencer.ts'
import { TailSet } from './redis-tails.ts'
import type { Appended, RedisWindow } from './redis-window.ts'

export interface DeliveryDeps {
  nodeId: string
  hub: LocalHub
  dir: RedisDirectory
  window: RedisWindow
  /** Delivers to this node's subscribers in each topic's sequence order. */
  sequencer: Sequencer
  /** True while the Redis connection is up. */
  online: () => boolean
  /** Hands a message to another node (the forwarder). */
  send: (node: string, msg: ClusterMessage) => Promise<boolean>
  /** Closes one of this node's connections; false when it has none by that id. */
  kick: (id: string) => boolean
  /** Writes a broadcast or a direct send to this node's own connections. */
  local: {
    broadcast(msg: EncodedMessage): number
    sendTo(id: string, msg: EncodedMessage): boolean
  }
  counters: Counters
  log: Logger
}

/**
 * The publish path of a cluster node: decide (one lookup, unless the topic has subscribers
 * here), append to the topic's window (one script: its sequence number, and the route at that
 * instant), deliver locally, forward once to each other node that holds subscribers or tails
 * of the topic; and the receiving end of it.
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
   * "Anyone listening?" for the whole cluster. A topic with subscribers here is live at once:
   * the append answers the route. Otherwise one lookup, which also takes the sequence number of
   * a publish it drops (when the topic has a position), and which the drop reuses for its tails.
   * While Redis is away, this node's own subscribers decide.
   */
  async probe(topic: string): Promise<boolean> {
    const { hub, dir } = this.#o
    if (hub.has(topic) || !this.#o.online()) return hub.has(topic)
    const lookup = dir.lookup(topic, true)
    this.#routes.put(topic, lookup)
    try {
      // Any live node, this one included: a count of 0 is a node lingering on the topic.
      return (await lookup).subscribers.size > 0
    } catch (err) {
      this.#o.log.warn({ err: String(err), topic }, 'lookup failed: no local subscriber')
      return false
    }
  }

  /** The route of a topic without appending: the probe's lookup, or a new one. */
  async #route(topic: string): Promise<Route | undefined> {
    const lookup = this.#routes.take(topic) ?? (this.#o.online() ? this.#o.dir.lookup(topic) : null)
    try {
      return (await lookup) ?? undefined
    } catch (err) {
      this.#o.log.warn({ err: String(err), topic }, 'lookup failed: local delivery only')
      return undefined
    }
  }

  async #append(ev: GatewayEvent): Promise<Appended | undefined> {
    if (!this.#o.online()) return undefined
    try {
      return await this.#o.window.append(ev)
    } catch (err) {
      this.#o.log.warn({ err: String(err), topic: ev.topic }, 'append failed: not kept, no cursor')
      return undefined
    }
  }

  async publish(ev: GatewayEvent): Promise<number> {
    const { hub, nodeId, sequencer } = this.#o
    const appended = await this.#append(ev)
    const probed = this.#routes.take(ev.topic)
    let local: number
    let route: Route | undefined
    if (appended) {
      probed?.catch(() => {})
      local = sequencer.offer(new EncodedEvent({ ...ev, ...appended }, NODE_ENCODERS))
      route = appended.route
    } else {
      // Redis is away (or refused): deliver without a sequence number, as before the window.
      local = hub.publish(new EncodedEvent(ev, NODE_ENCODERS))
      if (probed) this.#routes.put(ev.topic, probed)
      route = await this.#route(ev.topic)
    }
    let total = hub.subscriberCount(ev.topic)
    const targets = new Set<string>()
    for (const [node, n] of route?.subscribers ?? []) {
      // A node that only lingers on the topic (count 0) has nobody to give it to.
      if (node === nodeId || n <= 0) continue
      targets.add(node)
      total += n
    }
    for (const node of route?.tails ?? []) if (node !== nodeId) targets.add(node)
    const sent = { ...ev, seq: appended?.seq, epoch: appended?.epoch }
    this.tails.write(ev.topic, () => tailPublishFrame(new EncodedEvent(sent), total))
    if (targets.size > 0) {
      const msg: ClusterMessage = { k: 'event', ...pick(sent), subscribers: total }
      await Promise.all([...targets].map((node) => this.#o.send(node, msg)))
    }
    return local
  }

  async drop(topic: string, id: string): Promise<void> {
    this.tails.write(topic, () => tailDropFrame(topic, id))
    const others = ((await this.#route(topic))?.tails ?? []).filter((n) => n !== this.#o.nodeId)
    await Promise.all(others.map((n) => this.#o.send(n, { k: 'drop', topic, id })))
  }

  /** Writes a pre-framed notice (a resume's gap) to the topic's tails on every node. */
  async notice(topic: string, frame: Uint8Array): Promise<void> {
    this.tails.write(topic, () => frame)
    if (!this.#o.online()) return
    const route = await this.#o.dir.lookup(topic).catch(() => undefined)
    const others = (route?.tails ?? []).filter((n) => n !== this.#o.nodeId)
    if (others.length === 0) return
    const msg: ClusterMessage = { k: 'notice', topic, frame: Buffer.from(frame).toString('utf8') }
    await Promise.all(others.map((n) => this.#o.send(n, msg)))
  }

  /** A message from another node; the result answers a kick or a send (was the connection here?). */
  receive(msg: ClusterMessage): boolean {
    if (msg.k === 'broadcast' || msg.k === 'send') {
      const message = { id: msg.id, event: msg.event, data: msg.data }
      const { local, counters } = this.#o
      if (msg.k === 'send') {
        const sent = local.sendTo(msg.conn, new EncodedMessage(message, NODE_ENCODERS))
        if (sent) counters.delivered++
        return sent
      }
      const encoded = new EncodedMessage({ ...message, topic: BROADCAST_TOPIC }, NODE_ENCODERS)
      counters.delivered += local.broadcast(encoded)
      return true
    }
    if (msg.k === 'event') {
      const ev = new EncodedEvent(msg, NODE_ENCODERS)
      this.#o.counters.delivered += this.#o.sequencer.offer(ev)
      this.tails.write(ev.topic, () => tailPublishFrame(ev, msg.subscribers))
      return true
    }
    if (msg.k === 'drop') {
      this.tails.write(msg.topic, () => tailDropFrame(msg.topic, msg.id))
      return true
    }
    if (msg.k === 'notice') {
      this.tails.write(msg.topic, () => Buffer.from(msg.frame, 'utf8'))
      return true
    }
    return this.#o.kick(msg.conn)
  }
}

function pick(ev: GatewayEvent) {
  return {
    topic: ev.topic,
    id: ev.id,
    event: ev.event,
    data: ev.data,
    seq: ev.seq,
    epoch: ev.epoch,
  }
}
