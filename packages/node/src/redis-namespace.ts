import {
  type Config,
  type ConnectionInfo,
  type EncodedMessage,
  GatewayError,
  type HubHooks,
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
  type TopicPresence,
  type TopicQuery,
  type ConnectionQuery,
  hasSearch,
  createKeyCheck,
} from '@sse-gateway/core'
import type { Hono } from 'hono'
import type { Redis } from 'ioredis'
import type { Counters, LocalConnection } from './connection.ts'
import type { ClusterMessage, ForwardKind, Forwarder } from './forward.ts'
import { addClusterRoute, createForwarder } from './forward-http.ts'
import { LocalRegistry } from './local-registry.ts'
import type { TopicNamespace, TopicStub } from './namespace.ts'
import { NodeRegistry, clusterStats, nodeInfos } from './node-registry.ts'
import { ClusterDelivery } from './redis-delivery.ts'
import { RedisDirectory } from './redis-directory.ts'
import { TopicLinger } from './redis-linger.ts'
import { clusterKeys, createRedis } from './redis-scripts.ts'
import { Sequencer } from './redis-sequencer.ts'
import { RedisTicker } from './redis-ticker.ts'
import { RedisWindow, type WindowRead } from './redis-window.ts'

export interface RedisNamespaceOptions {
  config: Pick<
    Config,
    | 'redisUrl'
    | 'redisPrefix'
    | 'nodeTtlMs'
    | 'apiKeys'
    | 'maxBodyBytes'
    | 'shutdownTimeoutMs'
    | 'replay'
    | 'lingerMs'
    | 'drainLingerMs'
  >
  nodeId: string
  counters: Counters
  log: Logger
  /** This node's announced base URL (known once the server listens). */
  url: () => string
  /** How events reach other nodes (`CLUSTER_FORWARD`); default http. */
  forward?: ForwardKind | undefined
}

/** The hub of a cluster node: tail notices go to the cluster's tails (`notice`). */
class ClusterHub extends LocalHub {
  readonly #notice: (topic: string, frame: Uint8Array) => void

  constructor(notice: (topic: string, frame: Uint8Array) => void, hooks: HubHooks) {
    super(hooks)
    this.#notice = notice
  }

  override tailNotice(topic: string, frame: Uint8Array): void {
    this.#notice(topic, frame)
  }
}

const unavailable = () =>
  new GatewayError('unavailable', 'Redis is unreachable: cluster-wide listings are unavailable')

/**
 * The cluster namespace: topics live on every node that holds their subscribers, and Redis
 * keeps the directory (which nodes hold which topic), the node leases, the connection index and
 * each topic's replay window. A publish looks its topic up (one round trip, skipped when the
 * topic has subscribers here), appends to the window (one script, which also answers the
 * route), delivers locally and forwards once to each other node that needs it. While Redis is
 * away, local delivery keeps working (without cursors), `/readyz` answers 503, and the node
 * registers everything again when Redis is back.
 */
export class RedisNamespace implements TopicNamespace {
  readonly nodeId: string
  /**
   * This node's subscribers. A cluster node's admin tails are not the hub's (see `TailSet`), so
   * the notices the backend gives the hub (a resume's gap) go to the tails of every node.
   */
  readonly hub: LocalHub = new ClusterHub(
    (topic, frame) => {
      this.#delivery.notice(topic, frame).catch((err: unknown) => {
        this.#log.warn({ err: String(err), topic }, 'could not tell tails of a gap')
      })
    },
    {
      firstSubscriber: (topic) => {
        this.#since.set(topic, Date.now())
      },
      lastSubscriber: (topic) => {
        this.#since.delete(topic)
      },
    },
  )
  /** When each topic with subscribers here went live here (ms since the epoch), for presence. */
  readonly #since = new Map<string, number>()
  /** The look-up of a broadcast's drop decision, kept for its delivery (see `anyConnection`). */
  #connNodes: { nodes: Promise<Map<string, number>>; at: number } | undefined
  readonly registry = new LocalRegistry()
  readonly redis: Redis
  readonly forwarder: Forwarder
  readonly #delivery: ClusterDelivery
  readonly #dir: RedisDirectory
  readonly #window: RedisWindow
  readonly #sequencer: Sequencer
  readonly #nodes: NodeRegistry
  readonly #ticker: RedisTicker
  readonly #opts: RedisNamespaceOptions
  readonly #log: Logger
  readonly #startedAt = new Date().toISOString()
  readonly #onMessage: (msg: ClusterMessage) => boolean
  /** Topics without a local subscriber that this node keeps registered a while. */
  readonly #linger: TopicLinger

  constructor(opts: RedisNamespaceOptions) {
    const { config, nodeId, log } = opts
    if (!config.redisUrl) throw new Error('RedisNamespace needs REDIS_URL')
    this.nodeId = nodeId
    this.#opts = opts
    this.#log = log
    this.redis = createRedis(config.redisUrl, `sse-gateway:${nodeId}`)
    const keys = clusterKeys(config.redisPrefix)
    this.#dir = new RedisDirectory(this.redis, keys, nodeId)
    this.#linger = new TopicLinger({
      config,
      nodeId,
      dir: this.#dir,
      held: (topic) => this.hub.has(topic),
      write: (what, op) => this.#write(what, op),
      online: () => this.#online,
      log,
    })
    this.#window = new RedisWindow({
      redis: this.redis,
      keys,
      limits: config.replay,
      // Renewed every tick while a node holds the topic; outlives a window by far.
      posTtlMs: Math.max(config.replay.ageMs, 2 * config.nodeTtlMs),
    })
    this.#sequencer = new Sequencer({
      hub: this.hub,
      read: (topic, after) =>
        this.#online ? this.#window.read(topic, after) : Promise.resolve(undefined),
      late: (n) => {
        opts.counters.delivered += n
      },
    })
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
      window: this.#window,
      sequencer: this.#sequencer,
      online: () => this.#online,
      send: (node, msg) => this.forwarder.send(node, msg),
      kick: (id) => {
        const conn = this.registry.get(id)
        conn?.close('disconnected by admin', 4000)
        return conn !== undefined
      },
      local: this.registry,
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
        topicCounts: [
          ...[...this.hub.topics()].map((t): [string, number] => [t, this.hub.subscriberCount(t)]),
          ...[...this.#linger.topics()].map((t): [string, number] => [t, 0]),
        ],
        tailTopics: this.#delivery.tails.topics(),
        since: (t) => this.#since.get(t),
      }),
      touch: () => this.#window.touch([...this.hub.topics(), ...this.#linger.topics()]),
      log,
    })
  }

  idFromName(topic: string): string {
    return topic
  }

  get(id: string): TopicStub {
    return {
      probe: () => this.#delivery.probe(id),
      publish: (ev) => this.#delivery.publish(ev),
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

  /**
   * Registers the connection and reads its topics' histories in one transaction: a publish
   * appended before it is in what is read, one appended after it is forwarded here. Each topic
   * new on this node takes its position from that read; one already here is caught up to it.
   */
  async attach(conn: LocalConnection, asks?: ResumeAsk[]): Promise<Map<string, TopicHistory>> {
    let histories = new Map<string, TopicHistory>()
    if (conn.closed) return histories
    this.registry.add(conn)
    for (const t of conn.topics) {
      this.hub.add(t, conn)
      this.#linger.end(t)
      this.#sequencer.begin(t)
    }
    conn.scope = this.hub.scopeFor(conn.topics)
    const reads: WindowRead[] = conn.topics.map((topic, i) => {
      const ask = asks?.[i]
      return { topic, after: ask && 'after' in ask ? ask.after : undefined }
    })
    const counts = (t: string) => this.hub.subscriberCount(t)
    if (this.#online) {
      try {
        const raw = await this.#dir.addConnection(
          conn,
          counts,
          (t) => this.#since.get(t),
          (m) => this.#window.readInto(m, reads),
        )
        histories = this.#window.parse(reads, raw)
      } catch (err) {
        this.#log.warn({ err: String(err) }, 'connection not recorded in Redis: will re-register')
        this.#ticker.markDirty()
      }
    } else {
      this.#ticker.markDirty()
    }
    await Promise.all(
      conn.topics.map((t) => {
        const h = histories.get(t)
        return this.#sequencer.place(t, h && { epoch: h.epoch, seq: h.last })
      }),
    )
    return histories
  }

  detach(conn: LocalConnection): void {
    if (!this.registry.delete(conn)) return
    for (const t of conn.topics) {
      this.hub.remove(t, conn)
      if (!this.hub.has(t)) {
        this.#sequencer.forget(t)
        this.#linger.start(t)
      }
    }
    const counts = (t: string) => this.hub.subscriberCount(t)
    const keep = (t: string) => this.#linger.has(t)
    void this.#write('disconnect', () => this.#dir.removeConnection(conn, counts, keep))
  }

  /**
   * Starts a drain: from now on every topic that loses its last subscriber here (the streams
   * being ended) stays registered for DRAIN_LINGER_MS, or until another node holds subscribers
   * of it; `stop` waits for that.
   */
  drain(): void {
    this.#linger.drain()
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

  async listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>> {
    if (!this.#online) throw unavailable()
    const page = hasSearch(q.search)
      ? await this.#dir.searchConnections({ ...q, search: q.search })
      : await this.#dir.pageConnections(q)
    // This node's own connections carry their live counters, not the last snapshot.
    page.items = page.items.map((c) => this.registry.get(c.id)?.info() ?? c)
    return page
  }

  /**
   * At once when this node holds a connection; otherwise one look-up of the nodes holding
   * connections, which the broadcast that asked then reuses for its targets (one round trip in
   * all). While Redis is away, this node's own connections decide.
   */
  anyConnection(): boolean | Promise<boolean> {
    if (this.registry.size > 0 || !this.#online) {
      // A look-up left by an earlier broadcast (one that was dropped) is older than this
      // request: the broadcast must route by a fresh one.
      this.#connNodes = undefined
      return this.registry.size > 0
    }
    const nodes = this.#dir.connNodes()
    this.#connNodes = { nodes, at: performance.now() }
    return nodes.then(
      (found) => found.size > 0,
      (err: unknown) => {
        this.#log.warn({ err: String(err) }, 'broadcast look-up failed: no local connection')
        return false
      },
    )
  }

  /** The nodes holding connections: the drop decision's look-up (taken once, fresh), or a new one. */
  async #broadcastTargets(): Promise<Map<string, number>> {
    const probed = this.#connNodes
    this.#connNodes = undefined
    const lookup =
      probed && performance.now() - probed.at <= 1000
        ? probed.nodes
        : this.#online
          ? this.#dir.connNodes()
          : undefined
    try {
      return (await lookup) ?? new Map()
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'broadcast look-up failed: local connections only')
      return new Map()
    }
  }

  /**
   * This node's connections at once, then one message to each other node holding connections
   * (in order with the events forwarded to it). The count adds the other nodes' connections as
   * the directory holds them, for each node that took the message.
   */
  async broadcast(msg: EncodedMessage): Promise<number> {
    const local = this.registry.broadcast(msg)
    this.#opts.counters.delivered += local
    const targets = [...(await this.#broadcastTargets())].filter(([n]) => n !== this.nodeId)
    if (targets.length === 0) return local
    const { id, event, data } = msg.message
    const forward = { k: 'broadcast' as const, id, event, data }
    const sent = await Promise.all(targets.map(([node]) => this.forwarder.send(node, forward)))
    return targets.reduce((n, [, count], i) => (sent[i] ? n + count : n), local)
  }

  async sendTo(id: string, msg: EncodedMessage): Promise<boolean> {
    if (this.registry.get(id)) {
      const sent = this.registry.sendTo(id, msg)
      if (sent) this.#opts.counters.delivered++
      return sent
    }
    if (!this.#online) throw unavailable()
    const node = await this.#dir.nodeOf(id)
    if (node === undefined || node === this.nodeId) return false
    const { event, data } = msg.message
    return this.forwarder.send(node, { k: 'send', conn: id, id: msg.message.id, event, data })
  }

  /** Every live node's count and since of the topic, from the directory in one round trip. */
  async presence(topic: string): Promise<TopicPresence | null> {
    if (!this.#online) throw unavailable()
    const per = await this.#dir.presence(topic)
    if (per.length === 0) return null
    per.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
    return {
      topic,
      subscribers: per.reduce((n, p) => n + p.subscribers, 0),
      nodes: per.map(({ node, subscribers }) => ({ node, subscribers })),
      since: new Date(Math.min(...per.map((p) => p.since))).toISOString(),
    }
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
    if (this.#linger.draining) await this.#linger.out()
    this.#linger.clear()
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
