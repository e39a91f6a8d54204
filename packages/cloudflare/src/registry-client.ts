import type {
  ConnectionInfo,
  ConnectionQuery,
  Page,
  TopicInfo,
  TopicQuery,
} from '@sse-gateway/core'
import { type Env, allRegistries, hubFor } from './env.ts'
import {
  COUNT_NAMES,
  type ConnCounters,
  type ConnRecord,
  holdersOf,
  type RegistryTotals,
} from './records.ts'
import type { Settings } from './settings.ts'

/**
 * Reads the admin views from the registry objects. With one shard a listing is one call; with
 * several, each shard returns its first `limit` keys after the cursor and the pages merge in key
 * order (a topic's subscribers are summed across shards: a shard that cut its page before a
 * topic returned `limit` smaller keys, so that topic cannot be among the first `limit`).
 */
export class RegistryClient {
  readonly #env: Env
  readonly #settings: Settings

  constructor(env: Env, settings: Settings) {
    this.#env = env
    this.#settings = settings
  }

  #shards() {
    return allRegistries(this.#env, this.#settings.registryShards)
  }

  async listTopics(q: TopicQuery): Promise<Page<TopicInfo>> {
    const pages = await Promise.all(this.#shards().map((r) => r.listTopics(q)))
    const counts = new Map<string, number>()
    for (const p of pages) {
      for (const t of p.items) counts.set(t.topic, (counts.get(t.topic) ?? 0) + t.subscribers)
    }
    const names = [...counts.keys()].sort().slice(0, q.limit)
    const node = this.#settings.nodeName
    // Each listed topic's window, from its object (one call each, in parallel).
    const windows = await Promise.all(
      names.map((t) =>
        hubFor(this.#env, t)
          .windowSize()
          .catch(() => null),
      ),
    )
    return {
      items: names.map((topic, i) => ({
        topic,
        subscribers: counts.get(topic) ?? 0,
        nodes: [node],
        window: windows[i] ?? null,
      })),
      more: counts.size > q.limit || pages.some((p) => p.more),
    }
  }

  async listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>> {
    const pages = await Promise.all(this.#shards().map((r) => r.listConnections(q)))
    const all = pages.flatMap((p) => p.items).sort((a, b) => (a.id < b.id ? -1 : 1))
    const records = all.slice(0, q.limit)
    const counters = await this.#counters(records)
    const node = this.#settings.nodeName
    return {
      items: records.map((r) => {
        const [eventsSent, bytesSent] = counters.get(r.id) ?? [0, 0]
        return {
          id: r.id,
          transport: r.transport,
          topics: r.topics,
          node,
          connectedAt: r.connectedAt,
          remoteAddress: r.remoteAddress,
          userAgent: r.userAgent,
          eventsSent,
          bytesSent,
        }
      }),
      more: all.length > q.limit || pages.some((p) => p.more),
    }
  }

  /**
   * Events and bytes sent per connection, read from the topic objects that hold the streams
   * (one call per object), so the publish path never writes counters anywhere but in memory.
   */
  async #counters(records: ConnRecord[]): Promise<Map<string, [number, number]>> {
    const byHolder = new Map<string, string[]>()
    for (const r of records) {
      for (const h of holdersOf(r)) byHolder.set(h, [...(byHolder.get(h) ?? []), r.id])
    }
    const out = new Map<string, [number, number]>()
    const answers = await Promise.all(
      [...byHolder].map(([holder, ids]) =>
        hubFor(this.#env, holder)
          .counters(ids)
          .catch(() => ({})),
      ),
    )
    for (const a of answers as ConnCounters[]) {
      for (const [id, [events, bytes]] of Object.entries(a)) {
        const sum = out.get(id) ?? [0, 0]
        out.set(id, [sum[0] + events, sum[1] + bytes])
      }
    }
    return out
  }

  /** Counters and counts summed over every shard; topics counted exactly across shards. */
  async totals(): Promise<RegistryTotals> {
    const shards = await Promise.all(this.#shards().map((r) => r.totals()))
    const sum: RegistryTotals = {
      connections: 0,
      connectionsTotal: 0,
      topics: 0,
      published: 0,
      delivered: 0,
      dropped: 0,
      bytesSent: 0,
      slowConsumerDisconnects: 0,
      replayed: 0,
      gaps: 0,
      broadcasts: 0,
      directSends: 0,
      refusedByReason: { unauthorized: 0, forbidden: 0 },
      subscriptionsRefused: 0,
      createdAt: Date.now(),
    }
    for (const t of shards) {
      sum.createdAt = Math.min(sum.createdAt, t.createdAt)
      sum.connections += t.connections
      sum.connectionsTotal += t.connectionsTotal
      sum.topics += t.topics
      for (const name of COUNT_NAMES) sum[name] += t[name]
      sum.refusedByReason.unauthorized += t.refusedByReason.unauthorized
      sum.refusedByReason.forbidden += t.refusedByReason.forbidden
      sum.subscriptionsRefused += t.subscriptionsRefused
    }
    if (shards.length > 1) sum.topics = await this.#countTopics()
    return sum
  }

  async #countTopics(): Promise<number> {
    let n = 0
    let after: string | undefined
    for (let i = 0; i < 100_000; i++) {
      const page = await this.listTopics({ after, limit: 500 })
      n += page.items.length
      const last = page.items[page.items.length - 1]
      if (!page.more || last === undefined) break
      after = last.topic
    }
    return n
  }
}
