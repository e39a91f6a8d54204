import {
  type Config,
  type ConnectionInfo,
  EncodedEvent,
  type EncodedMessage,
  type GatewayEvent,
  LocalHub,
  type NodeInfo,
  type Page,
  ReplayStore,
  type ResumeAsk,
  pageOfSorted,
  type Stats,
  type TailSink,
  type TopicHistory,
  type TopicInfo,
  type TopicPresence,
  type TopicQuery,
  type ConnectionQuery,
  type SortedConnectionQuery,
  matchesPrefix,
} from '@sse-gateway/core'
import type { Counters, LocalConnection } from './connection.ts'
import { NODE_ENCODERS } from './frames.ts'
import { LocalRegistry } from './local-registry.ts'
import type { TopicNamespace, TopicStub } from './namespace.ts'

/**
 * The embedded single-node namespace: every topic lives in this process. No dependencies; the
 * default of `make start`.
 */
export class MemoryNamespace implements TopicNamespace {
  readonly nodeId: string
  readonly hub: LocalHub
  readonly registry = new LocalRegistry()
  /** Every topic's replay window and sequence numbers. */
  readonly store: ReplayStore
  readonly #counters: Counters
  readonly #startedAt = new Date().toISOString()
  readonly #url: string | null
  readonly #lingerMs: number
  /** Topics without a subscriber that stay live until then (LINGER_MS). */
  readonly #lingering = new Map<string, number>()
  /** When each topic with subscribers went live (ms since the epoch), for presence. */
  readonly #since = new Map<string, number>()
  #sweeper: ReturnType<typeof setInterval> | undefined
  readonly #sweepMs: number

  constructor(opts: {
    nodeId: string
    counters: Counters
    url?: string
    config?: Pick<Config, 'replay' | 'lingerMs'>
  }) {
    this.nodeId = opts.nodeId
    this.#counters = opts.counters
    this.#url = opts.url ?? null
    const replay = opts.config?.replay ?? {
      events: 1_000,
      ageMs: 300_000,
      topicBytes: 1_048_576,
      budgetBytes: 67_108_864,
    }
    this.store = new ReplayStore(replay)
    this.#sweepMs = Math.min(30_000, Math.max(1_000, Math.floor(replay.ageMs / 4)))
    this.#lingerMs = opts.config?.lingerMs ?? 0
    this.hub = new LocalHub({
      firstSubscriber: (topic) => {
        this.#since.set(topic, Date.now())
      },
      lastSubscriber: (topic) => {
        this.#since.delete(topic)
        if (this.#lingerMs > 0) this.#lingering.set(topic, Date.now() + this.#lingerMs)
      },
    })
  }

  /** True while the topic has a subscriber here, or lingers after its last one left. */
  #live(topic: string): boolean {
    if (this.hub.has(topic)) return true
    const until = this.#lingering.get(topic)
    if (until === undefined) return false
    if (until > Date.now()) return true
    this.#lingering.delete(topic)
    return false
  }

  idFromName(topic: string): string {
    return topic
  }

  liveNow(topic: string): boolean {
    return this.#live(topic)
  }

  dropNow(topic: string, id: string): void {
    this.store.skip(topic)
    this.hub.publishDrop(topic, id)
  }

  get(id: string): TopicStub {
    const { hub, store } = this
    return {
      probe: async () => this.#live(id),
      publish: async (ev: GatewayEvent) => {
        const pos = store.append(id, ev)
        return hub.publish(new EncodedEvent({ ...ev, ...pos }, NODE_ENCODERS))
      },
      drop: async (eventId: string) => this.dropNow(id, eventId),
    }
  }

  async attach(conn: LocalConnection, asks?: ResumeAsk[]): Promise<Map<string, TopicHistory>> {
    this.registry.add(conn)
    const histories = new Map<string, TopicHistory>()
    for (const [i, t] of conn.topics.entries()) {
      this.hub.add(t, conn)
      this.#lingering.delete(t)
      const ask = asks?.[i]
      const h = this.store.history(t, ask && 'after' in ask ? ask.after : undefined)
      this.hub.setPosition(t, { epoch: h.epoch, seq: h.last })
      histories.set(t, h)
    }
    conn.scope = this.hub.scopeFor(conn.topics)
    return histories
  }

  detach(conn: LocalConnection): void {
    if (!this.registry.delete(conn)) return
    for (const t of conn.topics) this.hub.remove(t, conn)
  }

  attachTail(topic: string, tail: TailSink): void {
    this.hub.addTail(topic, tail)
  }

  detachTail(topic: string, tail: TailSink): void {
    this.hub.removeTail(topic, tail)
  }

  async listTopics(q: TopicQuery): Promise<Page<TopicInfo>> {
    const names = [...this.hub.topics()].filter((t) => matchesPrefix(t, q.prefix)).sort()
    return pageOfSorted(
      names,
      (topic) => {
        const subscribers = this.hub.subscriberCount(topic)
        if (subscribers === 0) return undefined
        const w = this.store.windowOf(topic)
        return { topic, subscribers, nodes: [this.nodeId], window: w ?? null }
      },
      q.after,
      q.limit,
    )
  }

  async listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>> {
    return this.registry.page(q)
  }

  async listConnectionsSorted(q: SortedConnectionQuery): Promise<Page<ConnectionInfo>> {
    return this.registry.sortedPage(q)
  }

  anyConnection(): boolean {
    return this.registry.size > 0
  }

  async broadcast(msg: EncodedMessage): Promise<number> {
    const n = this.registry.broadcast(msg)
    this.#counters.delivered += n
    return n
  }

  async sendTo(id: string, msg: EncodedMessage): Promise<boolean> {
    const sent = this.registry.sendTo(id, msg)
    if (sent) this.#counters.delivered++
    return sent
  }

  async presence(topic: string): Promise<TopicPresence | null> {
    const subscribers = this.hub.subscriberCount(topic)
    if (subscribers === 0) return null
    return {
      topic,
      subscribers,
      nodes: [{ node: this.nodeId, subscribers }],
      since: new Date(this.#since.get(topic) ?? Date.now()).toISOString(),
    }
  }

  async disconnect(id: string): Promise<boolean> {
    const conn = this.registry.get(id)
    if (!conn) return false
    conn.close('disconnected by admin', 4000)
    return true
  }

  async stats(): Promise<Stats> {
    const node = this.registry.nodeStats(this.nodeId, this.#counters, this.hub.topicCount)
    const { node: _id, ...totals } = node
    return { ...totals, nodes: [node] }
  }

  async nodes(): Promise<NodeInfo[]> {
    return [
      {
        id: this.nodeId,
        url: this.#url,
        startedAt: this.#startedAt,
        connections: this.registry.size,
        topics: this.hub.topicCount,
      },
    ]
  }

  async ready(): Promise<{ ready: boolean; reason?: string }> {
    return { ready: true }
  }

  async start(): Promise<void> {
    // Idle topics' windows are let go after the age bound, so memory follows the live topics.
    this.#sweeper = setInterval(() => this.store.sweep((t) => this.#live(t)), this.#sweepMs)
    this.#sweeper.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweeper)
  }
}
