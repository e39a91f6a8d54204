import {
  type ConnectionInfo,
  type EncodedEvent,
  LocalHub,
  type NodeInfo,
  type Page,
  pageOfSorted,
  type Stats,
  type TailSink,
  type TopicInfo,
  type TopicQuery,
  matchesPrefix,
} from '@sse-gateway/core'
import type { Counters, LocalConnection } from './connection.ts'
import { LocalRegistry } from './local-registry.ts'
import type { TopicNamespace, TopicStub } from './namespace.ts'

/**
 * The embedded single-node namespace: every topic lives in this process. No dependencies; the
 * default of `make start`.
 */
export class MemoryNamespace implements TopicNamespace {
  readonly nodeId: string
  readonly hub = new LocalHub()
  readonly registry = new LocalRegistry()
  readonly #counters: Counters
  readonly #startedAt = new Date().toISOString()
  readonly #url: string | null

  constructor(opts: { nodeId: string; counters: Counters; url?: string }) {
    this.nodeId = opts.nodeId
    this.#counters = opts.counters
    this.#url = opts.url ?? null
  }

  idFromName(topic: string): string {
    return topic
  }

  get(id: string): TopicStub {
    const hub = this.hub
    return {
      probe: async () => hub.has(id),
      publish: async (ev: EncodedEvent) => hub.publish(ev),
      drop: async (eventId: string) => hub.publishDrop(id, eventId),
    }
  }

  async attach(conn: LocalConnection): Promise<void> {
    this.registry.add(conn)
    for (const t of conn.topics) this.hub.add(t, conn)
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
        return subscribers > 0 ? { topic, subscribers, nodes: [this.nodeId] } : undefined
      },
      q.after,
      q.limit,
    )
  }

  async listConnections(q: {
    after: string | undefined
    limit: number
    topic: string | undefined
  }): Promise<Page<ConnectionInfo>> {
    return this.registry.page(q)
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

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
