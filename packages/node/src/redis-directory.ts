import {
  type ConnectionInfo,
  type ConnectionQuery,
  type ConnectionSearch,
  matchesSearch,
  type Page,
  type TopicInfo,
} from '@sse-gateway/core'

/** Connections one search call looks at, at most, before it answers with where it stopped. */
const SEARCH_SCAN = 20_000
import type { ChainableCommander, Redis } from 'ioredis'
import type { LocalConnection } from './connection.ts'
import { type ClusterKeys, removeNodeKeys } from './redis-scripts.ts'

/** Where a topic's events must go: live nodes with subscribers (and how many), with tails. */
export interface Route {
  subscribers: Map<string, number>
  tails: string[]
}

/** What this node holds, as the directory must show it after a re-registration. */
export interface LocalState {
  connections: Iterable<LocalConnection>
  /** Local subscriber count of every topic this node holds (0: it lingers on the topic). */
  topicCounts: Iterable<[string, number]>
  /** Since when this node has had subscribers of a topic (ms since the epoch). */
  since: (topic: string) => number | undefined
  tailTopics: Iterable<string>
}

/** A route from a script's flat `{node, count, …}` and tail nodes. */
export function routeOf(flat: string[], tails: string[]): Route {
  const subscribers = new Map<string, number>()
  for (let i = 0; i + 1 < flat.length; i += 2) subscribers.set(flat[i]!, Number(flat[i + 1]))
  return { subscribers, tails }
}

/** The static part of a connection, as stored in Redis (counters live in `conn-stats`). */
function record(conn: LocalConnection): string {
  const { eventsSent: _e, bytesSent: _b, ...rest } = conn.info()
  return JSON.stringify(rest)
}

/**
 * Runs a MULTI and throws the first error of its commands (exec itself only fails on abort);
 * resolves with the result of its last command.
 */
async function run(m: ChainableCommander): Promise<unknown> {
  const res = await m.exec()
  if (!res) throw new Error('Redis transaction aborted')
  for (const [err] of res) if (err) throw err
  return res.at(-1)?.[1]
}

/** `[more, items]` from a paging script; cjson encodes an empty table as `{}`. */
function decodePage<T>(json: string): { more: boolean; items: T[] } {
  const [more, items] = JSON.parse(json) as [boolean, T[] | Record<string, never>]
  return { more, items: Array.isArray(items) ? items : [] }
}

/**
 * The topic → nodes directory and the cluster-wide connection index, kept in Redis by each node
 * for what it holds. Every change is one MULTI (one round trip, applied atomically); the
 * commands of one node travel on one connection, so they apply in the order they were made.
 */
export class RedisDirectory {
  readonly #redis: Redis
  readonly #k: ClusterKeys
  readonly #node: string

  constructor(redis: Redis, keys: ClusterKeys, nodeId: string) {
    this.#redis = redis
    this.#k = keys
    this.#node = nodeId
  }

  #addConn(m: ChainableCommander, conn: LocalConnection): void {
    const k = this.#k
    m.hset(k.connInfo, conn.id, record(conn))
    m.zadd(k.conns, 0, conn.id)
    m.sadd(k.nodeConns(this.#node), conn.id)
    for (const t of conn.topics) m.zadd(k.topicConns(t), 0, conn.id)
  }

  #setTopic(
    m: ChainableCommander,
    topic: string,
    count: number,
    keep: boolean,
    since: number | undefined,
  ): void {
    const k = this.#k
    m.sseSetTopic(
      k.topic(topic),
      k.topics,
      k.nodeTopics(this.#node),
      k.since(topic),
      topic,
      this.#node,
      `${count}`,
      keep ? '1' : '0',
      `${since ?? Date.now()}`,
    )
  }

  /**
   * Records a new local connection and the local subscriber counts of its topics (taken after
   * the connection joined the hub), then runs `then`'s commands in the same transaction (the
   * reads of its topics' histories): one round trip, applied at one instant. Resolves with the
   * result of the last command once Redis has applied it: from then on a publish on any node
   * routes its topics here.
   */
  addConnection(
    conn: LocalConnection,
    counts: (topic: string) => number,
    since: (topic: string) => number | undefined,
    then?: (m: ChainableCommander) => void,
  ): Promise<unknown> {
    const m = this.#redis.multi()
    this.#addConn(m, conn)
    for (const t of conn.topics) this.#setTopic(m, t, counts(t), false, since(t))
    then?.(m)
    return run(m)
  }

  /**
   * Forgets a closed local connection; a topic count of 0 takes this node off that topic, unless
   * `keep` says the node lingers on it (LINGER_MS, a drain).
   */
  async removeConnection(
    conn: LocalConnection,
    counts: (topic: string) => number,
    keep: (topic: string) => boolean,
  ): Promise<void> {
    const k = this.#k
    const m = this.#redis.multi()
    m.hdel(k.connInfo, conn.id)
    m.hdel(k.connStats, conn.id)
    m.zrem(k.conns, conn.id)
    m.srem(k.nodeConns(this.#node), conn.id)
    for (const t of conn.topics) {
      m.zrem(k.topicConns(t), conn.id)
      this.#setTopic(m, t, counts(t), keep(t), undefined)
    }
    await run(m)
  }

  /** Takes this node off a topic it lingered on. */
  async unlinger(topic: string): Promise<void> {
    const m = this.#redis.multi()
    this.#setTopic(m, topic, 0, false, undefined)
    await run(m)
  }

  /** Records whether this node holds a tail of `topic` (so publishes elsewhere reach it). */
  async setTail(topic: string, on: boolean): Promise<void> {
    const k = this.#k
    const m = this.#redis.multi()
    if (on) m.sadd(k.tails(topic), this.#node).sadd(k.nodeTails(this.#node), topic)
    else m.srem(k.tails(topic), this.#node).srem(k.nodeTails(this.#node), topic)
    await run(m)
  }

  /** Writes events/bytes sent of local connections, for listings made on other nodes. */
  async writeCounters(conns: Iterable<LocalConnection>): Promise<void> {
    const fields: string[] = []
    for (const c of conns) fields.push(c.id, `${c.eventsSent} ${c.bytesSent}`)
    // Every chunk is sent now, before any later HDEL of a connection that closes meanwhile:
    // awaiting between chunks would let a closed connection's counters be written back.
    const sent: Promise<number>[] = []
    for (let i = 0; i < fields.length; i += 2000) {
      sent.push(this.#redis.hset(this.#k.connStats, ...fields.slice(i, i + 2000)))
    }
    await Promise.all(sent)
  }

  /**
   * The routing of one topic: one round trip. With `countDrop`, a topic that no live node holds
   * takes its next sequence number in the same script (the publish asking is dropped).
   */
  async lookup(topic: string, countDrop = false): Promise<Route> {
    const k = this.#k
    const [flat, tails] = await this.#redis.sseLookup(
      k.nodes,
      k.topic(topic),
      k.tails(topic),
      k.pos(topic),
      countDrop ? '1' : '0',
    )
    return routeOf(flat, tails)
  }

  /**
   * Live nodes holding at least one connection, with how many (one round trip). The directory
   * records a connection before its client hears `: connected`, so a broadcast routed by this
   * reaches every connection that has opened.
   */
  async connNodes(): Promise<Map<string, number>> {
    const flat = await this.#redis.sseConnNodes(this.#k.nodes, this.#k.prefix)
    const out = new Map<string, number>()
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(String(flat[i]), Number(flat[i + 1]))
    return out
  }

  /** Live nodes holding subscribers of `topic`: how many and since when (one round trip). */
  async presence(
    topic: string,
  ): Promise<Array<{ node: string; subscribers: number; since: number }>> {
    const k = this.#k
    const flat = await this.#redis.ssePresence(k.nodes, k.topic(topic), k.since(topic))
    const out: Array<{ node: string; subscribers: number; since: number }> = []
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const since = Number(flat[i + 2])
      out.push({
        node: flat[i] as string,
        subscribers: Number(flat[i + 1]),
        since: flat[i + 2] === '' || !Number.isFinite(since) ? Date.now() : since,
      })
    }
    return out
  }

  /** Topics held by at least one node (dead nodes' topics count until they are reaped). */
  topicCount(): Promise<number> {
    return this.#redis.zcard(this.#k.topics)
  }

  /** The node holding a connection, by the directory; undefined when no node has it. */
  async nodeOf(id: string): Promise<string | undefined> {
    const json = await this.#redis.hget(this.#k.connInfo, id)
    if (json === null) return undefined
    return (JSON.parse(json) as { node: string }).node
  }

  async pageTopics(
    after: string | undefined,
    limit: number,
    prefix: string | undefined,
  ): Promise<Page<TopicInfo>> {
    const k = this.#k
    const raw = await this.#redis.ssePageTopics(
      k.topics,
      k.nodes,
      k.prefix,
      after ?? '',
      `${limit}`,
      prefix ?? '',
    )
    const page = decodePage<[string, number, string[], [number, number] | false]>(raw)
    return {
      more: page.more,
      items: page.items.map(([topic, subscribers, nodes, w]) => ({
        topic,
        subscribers,
        nodes: [...nodes].sort(),
        window: w ? { events: w[0], bytes: w[1] } : null,
      })),
    }
  }

  async pageConnections(q: {
    after: string | undefined
    limit: number
    topic: string | undefined
  }): Promise<Page<ConnectionInfo>> {
    const k = this.#k
    const index = q.topic === undefined ? k.conns : k.topicConns(q.topic)
    const raw = await this.#redis.ssePageConns(
      index,
      k.connInfo,
      k.connStats,
      k.nodes,
      q.after ?? '',
      `${q.limit}`,
    )
    const page = decodePage<[string, string]>(raw)
    return {
      more: page.more,
      items: page.items.map(([json, stats]) => {
        const [events, bytes] = stats.split(' ')
        return {
          ...(JSON.parse(json) as Omit<ConnectionInfo, 'eventsSent' | 'bytesSent'>),
          eventsSent: Number(events ?? 0) || 0,
          bytesSent: Number(bytes ?? 0) || 0,
        }
      }),
    }
  }

  /**
   * A search of the connection index: pages of 500 in id order, filtered here, until `limit`
   * matches or SEARCH_SCAN connections were looked at; `next` then says where to go on.
   */
  async searchConnections(
    q: ConnectionQuery & { search: ConnectionSearch },
  ): Promise<Page<ConnectionInfo>> {
    const items: ConnectionInfo[] = []
    let after = q.after
    for (let scanned = 0; scanned < SEARCH_SCAN;) {
      const page = await this.pageConnections({ after, limit: 500, topic: q.topic })
      for (const [i, c] of page.items.entries()) {
        if (!matchesSearch(c, q.search)) continue
        items.push(c)
        if (items.length === q.limit) {
          return { items, more: i < page.items.length - 1 || page.more }
        }
      }
      scanned += page.items.length
      after = page.items.at(-1)?.id ?? after
      if (!page.more) return { items, more: false }
    }
    return { items, more: true, next: after }
  }

  /**
   * Re-registers everything this node holds in one transaction: its lease, then its old
   * entries removed and its current ones written. Used at start, after Redis came back, and
   * when the lease was found expired. Built synchronously from the live state, so changes made
   * after it are applied after it.
   */
  async resync(lease: string[], state: LocalState): Promise<unknown> {
    const k = this.#k
    const m = this.#redis.multi()
    m.sseHeartbeat(...(lease as [string, string, string, string]))
    m.sseRemoveNode(...removeNodeKeys(k, this.#node), this.#node, k.prefix, '0', 'clear')
    for (const conn of state.connections) this.#addConn(m, conn)
    for (const [topic, count] of state.topicCounts) {
      this.#setTopic(m, topic, count, true, state.since(topic))
    }
    for (const topic of state.tailTopics) {
      m.sadd(k.tails(topic), this.#node).sadd(k.nodeTails(this.#node), topic)
    }
    return run(m)
  }

  /** Removes this node and all its entries: a clean shutdown. */
  async leave(): Promise<void> {
    const k = this.#k
    await this.#redis.sseRemoveNode(
      ...removeNodeKeys(k, this.#node),
      this.#node,
      k.prefix,
      '0',
      'leave',
    )
  }
}
