import {
  type Config,
  type ConnectionInfo,
  EncodedEvent,
  GatewayError,
  LocalHub,
  type Logger,
  type NodeInfo,
  type NodeStats,
  type Page,
  type ResumeAsk,
  type Stats,
  type TailSink,
  type TopicHistory,
  type TopicInfo,
  type TopicQuery,
  createKeyCheck,
} from '@sse-gateway/core'
import type { Hono } from 'hono'
import type { Redis } from 'ioredis'
import type { Counters, LocalConnection } from './connection.ts'
import type { ClusterMessage, ForwardKind, Forwarder } from './forward.ts'
import { NODE_ENCODERS } from './frames.ts'
import { addClusterRoute, createForwarder } from './forward-http.ts'
import { LocalRegistry } from './local-registry.ts'
import type { TopicNamespace, TopicStub } from './namespace.ts'
import { NodeRegistry, clusterStats, nodeInfos } from './node-registry.ts'
import { ClusterDelivery } from './redis-delivery.ts'
import { RedisDirectory } from './redis-directory.ts'
import { clusterKeys, createRedis } from './redis-scripts.ts'
import { RedisTicker } from './redis-ticker.ts'

export interface RedisNamespaceOptions {
  config: Pick<
    Config,
    'redisUrl' | 'redisPrefix' | 'nodeTtlMs' | 'apiKeys' | 'maxBodyBytes' | 'shutdownTimeoutMs'
  >
  nodeId: string
  counters: Counters
  log: Logger
  /** This node's announced base URL (known once the server listens). */
  url: () => string
  /** How events reach other nodes (`CLUSTER_FORWARD`); default http. */
  forward?: ForwardKind | undefined
}

const unavailable = () =>
  new GatewayError('unavailable', 'Redis is unreachable: cluster-wide listings are unavailable')

/**
 * The cluster namespace: topics live on every node that holds their subscribers, and Redis
 * keeps the directory (which nodes hold which topic), the node leases and the connection index.
 * A publish looks its topic up (one round trip), delivers locally and forwards once to each
 * other node that needs it. While Redis is away, local delivery keeps working, `/readyz`
 * answers 503, and the node registers everything again when Redis is back.
 */
export class RedisNamespace implements TopicNamespace {
  readonly nodeId: string
  readonly hub = new LocalHub()
  readonly registry = new LocalRegistry()
  readonly redis: Redis
  readonly forwarder: Forwarder
  readonly #delivery: ClusterDelivery
  readonly #dir: RedisDirectory
  readonly #nodes: NodeRegistry
  readonly #ticker: RedisTicker
  readonly #opts: RedisNamespaceOptions
  readonly #log: Logger
  readonly #startedAt = new Date().toISOString()
  readonly #onMessage: (msg: ClusterMessage) => boolean

  constructor(opts: RedisNamespaceOptions) {
    const { config, nodeId, log } = opts
    if (!config.redisUrl) throw new Error('RedisNamespace needs REDIS_URL')
    this.nodeId = nodeId
    this.#opts = opts
    this.#log = log
    this.redis = createRedis(config.redisUrl, `sse-gateway:${nodeId}`)
    const keys = clusterKeys(config.redisPrefix)
    this.#dir = new RedisDirectory(this.redis, keys, nodeId)
    this.#nodes = new NodeRegistry({
      redis: this.redis,
      keys,
      nodeId,
      ttlMs: config.nodeTtlMs,
      record: () => ({ id: nodeId, url: opts.url(), startedAt: this.#startedAt }),
      stats: () => this.#ownStats(),
      log,
    })
    this.#delivery = new ClusterDelivery({
      nodeId,
      hub: this.hub,
      dir: this.#dir,
      online: () => this.#online,
      send: (node, msg) => this.forwarder.send(node, msg),
      kick: (id) => {
        const conn = this.registry.get(id)
        conn?.close('disconnected by admin', 4000)
        return conn !== undefined
      },
      counters: opts.counters,
      log,
    })
    this.#onMessage = (msg: ClusterMessage) => this.#delivery.receive(msg)
    this.forwarder = createForwarder(opts.forward ?? 'redis', {
      redis: this.redis,
      channel: keys.channel,
      nodeId,
      onMessage: this.#onMessage,
      resolveUrl: (node) => this.#nodes.urlOf(node),
      apiKey: config.apiKeys[0] as string,
      timeoutMs: Math.min(2000, config.nodeTtlMs),
      log,
    })
    this.#ticker = new RedisTicker({
      redis: this.redis,
      dir: this.#dir,
      nodes: this.#nodes,
      intervalMs: Math.max(200, Math.floor(config.nodeTtlMs / 3)),
      state: () => ({
        connections: this.registry.values(),
        topicCounts: [...this.hub.topics()].map((t) => [t, this.hub.subscriberCount(t)]),
        tailTopics: this.#delivery.tails.topics(),
      }),
      log,
    })
  }

  idFromName(topic: string): string {
    return topic
  }

  get(id: string): TopicStub {
    return {
      probe: () => this.#delivery.probe(id),
      publish: (ev) => this.#delivery.publish(new EncodedEvent(ev, NODE_ENCODERS)),
      drop: (eventId) => this.#delivery.drop(id, eventId),
    }
  }

  get #online(): boolean {
    return this.redis.status === 'ready'
  }

  /** Writes to Redis in the background of local work; a failure means re-register later. */
  #write(what: string, op: () => Promise<void>): Promise<void> {
    if (!this.#online) {
      this.#ticker.markDirty()
      return Promise.resolve()
    }
    return op().catch((err: unknown) => {
      this.#log.warn({ err: String(err) }, `${what} not recorded in Redis: will re-register`)
      this.#ticker.markDirty()
    })
  }

  async attach(conn: LocalConnection, _asks?: ResumeAsk[]): Promise<Map<string, TopicHistory>> {
    const histories = new Map<string, TopicHistory>()
    if (conn.closed) return histories
    this.registry.add(conn)
    for (const t of conn.topics) this.hub.add(t, conn)
    conn.scope = this.hub.scopeFor(conn.topics)
    const counts = (t: string) => this.hub.subscriberCount(t)
    await this.#write('connection', () => this.#dir.addConnection(conn, counts))
    return histories
  }

  detach(conn: LocalConnection): void {
    if (!this.registry.delete(conn)) return
    for (const t of conn.topics) this.hub.remove(t, conn)
    const counts = (t: string) => this.hub.subscriberCount(t)
    void this.#write('disconnect', () => this.#dir.removeConnection(conn, counts))
  }

  attachTail(topic: string, tail: TailSink): void {
    if (this.#delivery.tails.add(topic, tail))
      void this.#write('tail', () => this.#dir.setTail(topic, true))
  }

  detachTail(topic: string, tail: TailSink): void {
    if (this.#delivery.tails.remove(topic, tail)) {
      void this.#write('tail', () => this.#dir.setTail(topic, false))
    }
  }

  async listTopics(q: TopicQuery): Promise<Page<TopicInfo>> {
    if (!this.#online) throw unavailable()
    return this.#dir.pageTopics(q.after, q.limit, q.prefix)
  }

  async listConnections(q: {
    after: string | undefined
    limit: number
    topic: string | undefined
  }): Promise<Page<ConnectionInfo>> {
    if (!this.#online) throw unavailable()
    const page = await this.#dir.pageConnections(q)
    // This node's own connections carry their live counters, not the last snapshot.
    page.items = page.items.map((c) => this.registry.get(c.id)?.info() ?? c)
    return page
  }

  async disconnect(id: string): Promise<boolean> {
    const conn = this.registry.get(id)
    if (conn) {
      conn.close('disconnected by admin', 4000)
      return true
    }
    if (!this.#online) throw unavailable()
    const node = await this.#dir.nodeOf(id)
    if (node === undefined || node === this.nodeId) return false
    return this.forwarder.send(node, { k: 'kick', conn: id })
  }

  #ownStats(): NodeStats {
    return this.registry.nodeStats(this.nodeId, this.#opts.counters, this.hub.topicCount)
  }

  async stats(): Promise<Stats> {
    if (!this.#online) throw unavailable()
    const [live, topics] = await Promise.all([this.#nodes.live(), this.#dir.topicCount()])
    const per = live.map((n) => (n.id === this.nodeId ? this.#ownStats() : n.stats))
    return clusterStats(
      per.filter((n): n is NodeStats => n !== undefined),
      topics,
    )
  }

  async nodes(): Promise<NodeInfo[]> {
    if (!this.#online) throw unavailable()
    return nodeInfos(await this.#nodes.live(), this.nodeId, this.#ownStats())
  }

  async ready(): Promise<{ ready: boolean; reason?: string }> {
    if (!this.#online)
      return { ready: false, reason: `Redis is unreachable (${this.redis.status})` }
    if (!this.#ticker.registered) return { ready: false, reason: 'registering in Redis' }
    if (!this.forwarder.receiving) {
      // Its own connection to Redis (pub/sub) is down: usually the first sign of an outage.
      return { ready: false, reason: 'Redis is unreachable (not subscribed to its channel)' }
    }
    return { ready: true }
  }

  /** Adds the route forwarded events arrive on, when nodes talk HTTP to each other. */
  routes(app: Hono): void {
    if (this.forwarder.kind !== 'http') return
    addClusterRoute(app, {
      checkKey: createKeyCheck(this.#opts.config.apiKeys),
      onMessage: this.#onMessage,
      maxBytes: 6 * this.#opts.config.maxBodyBytes + 8 * 1024 * 1024,
    })
  }

  async start(): Promise<void> {
    this.#ticker.listen()
    this.redis.connect().catch(() => {}) // retried by ioredis; the ticker logs the outage
    await this.forwarder.start()
    await this.#ticker.start()
  }

  async stop(): Promise<void> {
    await this.#ticker.stop()
    if (this.#online) {
      await this.#dir.leave().catch((err: unknown) => {
        this.#log.warn({ err: String(err) }, 'could not deregister from Redis')
      })
    }
    await this.forwarder.stop()
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}
