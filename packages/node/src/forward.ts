import type { Logger } from '@sse-gateway/core'
import type { Redis } from 'ioredis'

/** What one node tells another. */
export type ClusterMessage =
  /** An event published on the sending node, for this node's subscribers and tails. */
  | {
      k: 'event'
      topic: string
      id: string
      event?: string | undefined
      data: string
      /** The event's sequence number in its topic and the epoch it belongs to (absent while Redis was away). */
      seq?: number | undefined
      epoch?: string | undefined
      /** Subscribers of the topic across the cluster, as the sender counted them (for tails). */
      subscribers: number
    }
  /** A publish to a topic nobody subscribes to: only tails hear of it. */
  | { k: 'drop'; topic: string; id: string }
  /** A frame for the topic's tails only (a resume's gap on the sending node). */
  | { k: 'notice'; topic: string; frame: string }
  /** An admin asked to close one of this node's connections. */
  | { k: 'kick'; conn: string }
  /** A broadcast (`x-sse-topic: *`) for every connection of this node. */
  | { k: 'broadcast'; id: string; event?: string | undefined; data: string }
  /** A direct send to one of this node's connections; the result says whether it was here. */
  | { k: 'send'; conn: string; id: string; event?: string | undefined; data: string }

/** Applies a message that reached this node; the result answers `kick` and `send` (was it here?). */
export type MessageHandler = (msg: ClusterMessage) => boolean

/** The two ways to carry messages between nodes: `CLUSTER_FORWARD=redis|http`. */
export type ForwardKind = 'redis' | 'http'

/**
 * How events travel from the node that took a publish to the nodes that hold its subscribers.
 */
export interface Forwarder {
  readonly kind: ForwardKind
  /**
   * Hands `msg` to `node`. Resolves true once the node has it (http) or Redis has passed it to
   * the node's subscription (redis); false when the node cannot be reached. Never rejects, and
   * a dead node fails on its own: it never holds up messages to other nodes. Messages sent to
   * one node arrive in the order of the calls.
   */
  send(node: string, msg: ClusterMessage): Promise<boolean>
  /** Starts receiving this node's messages. */
  start(): Promise<void>
  /** True while this node can receive messages. */
  readonly receiving: boolean
  stop(): Promise<void>
}

/** Decodes a message from another node; undefined when it is not one we understand. */
export function decodeMessage(value: unknown): ClusterMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const m = value as Record<string, unknown>
  if (m.k === 'event' && typeof m.topic === 'string' && typeof m.id === 'string') {
    if (typeof m.data !== 'string') return undefined
    const sequenced = Number.isSafeInteger(m.seq) && typeof m.epoch === 'string'
    return {
      k: 'event',
      topic: m.topic,
      id: m.id,
      event: typeof m.event === 'string' ? m.event : undefined,
      data: m.data,
      seq: sequenced ? (m.seq as number) : undefined,
      epoch: sequenced ? (m.epoch as string) : undefined,
      subscribers: typeof m.subscribers === 'number' ? m.subscribers : 0,
    }
  }
  if (m.k === 'drop' && typeof m.topic === 'string' && typeof m.id === 'string') {
    return { k: 'drop', topic: m.topic, id: m.id }
  }
  if (m.k === 'notice' && typeof m.topic === 'string' && typeof m.frame === 'string') {
    return { k: 'notice', topic: m.topic, frame: m.frame }
  }
  if (m.k === 'kick' && typeof m.conn === 'string') return { k: 'kick', conn: m.conn }
  if ((m.k === 'broadcast' || m.k === 'send') && typeof m.id === 'string') {
    if (typeof m.data !== 'string') return undefined
    const event = typeof m.event === 'string' ? m.event : undefined
    if (m.k === 'broadcast') return { k: 'broadcast', id: m.id, event, data: m.data }
    if (typeof m.conn !== 'string') return undefined
    return { k: 'send', conn: m.conn, id: m.id, event, data: m.data }
  }
  return undefined
}

/** A message's JSON, made once while the same message is sent to several nodes in a row. */
export function encodedOnce(): (msg: ClusterMessage) => string {
  let last: ClusterMessage | undefined
  let text = ''
  return (msg) => {
    if (msg !== last) {
      last = msg
      text = JSON.stringify(msg)
    }
    return text
  }
}

/**
 * Forwarding over Redis pub/sub: each node subscribes to its own channel, senders PUBLISH to
 * the target's channel on their command connection. One connection per sender keeps its
 * messages in order; PUBLISH answers how many subscribers got the message, so a dead node is
 * known at once (0) without any timeout. Messages sent while Redis is away are lost: the
 * sender's own subscribers still get them.
 */
export class RedisForwarder implements Forwarder {
  readonly kind = 'redis'
  readonly #redis: Redis
  readonly #channel: (node: string) => string
  readonly #self: string
  readonly #onMessage: MessageHandler
  readonly #log: Logger
  #sub: Redis | undefined
  #subscribed = false
  readonly #encode = encodedOnce()

  constructor(opts: {
    redis: Redis
    channel: (node: string) => string
    nodeId: string
    onMessage: MessageHandler
    log: Logger
  }) {
    this.#redis = opts.redis
    this.#channel = opts.channel
    this.#self = opts.nodeId
    this.#onMessage = opts.onMessage
    this.#log = opts.log
  }

  get receiving(): boolean {
    return this.#subscribed && this.#sub?.status === 'ready'
  }

  async send(node: string, msg: ClusterMessage): Promise<boolean> {
    try {
      return (await this.#redis.publish(this.#channel(node), this.#encode(msg))) > 0
    } catch (err) {
      this.#log.warn({ err: String(err), node }, 'forward failed')
      return false
    }
  }

  async start(): Promise<void> {
    // A subscribing connection cannot send other commands: a second connection. It queues the
    // SUBSCRIBE until connected and subscribes again by itself after every reconnect.
    const sub = this.#redis.duplicate({ enableOfflineQueue: true, lazyConnect: false })
    this.#sub = sub
    sub.on('error', () => {}) // the command connection logs the outage
    sub.on('message', (_channel: string, text: string) => {
      let msg: ClusterMessage | undefined
      try {
        msg = decodeMessage(JSON.parse(text))
      } catch {}
      if (msg) this.#onMessage(msg)
      else this.#log.warn({ length: text.length }, 'ignored a malformed cluster message')
    })
    const subscribed = sub.subscribe(this.#channel(this.#self)).then(() => {
      this.#subscribed = true
    })
    subscribed.catch((err: unknown) =>
      this.#log.error({ err }, 'cannot subscribe to the node channel'),
    )
    // Redis may be away at start: wait a little, then go on; the node is not ready until then.
    await Promise.race([subscribed, new Promise((r) => setTimeout(r, 5000).unref())]).catch(
      () => {},
    )
  }

  async stop(): Promise<void> {
    const sub = this.#sub
    this.#sub = undefined
    if (!sub) return
    // QUIT would wait in the offline queue while Redis is away: just close then.
    if (sub.status === 'ready') await sub.quit().catch(() => sub.disconnect())
    else sub.disconnect()
  }
}
