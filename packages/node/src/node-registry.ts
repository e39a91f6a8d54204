import { hostname, networkInterfaces } from 'node:os'
import type { Logger, NodeInfo, NodeStats, Stats } from '@sse-gateway/core'
import type { Redis } from 'ioredis'
import { type ClusterKeys, removeNodeKeys } from './redis-scripts.ts'

/** What a node announces about itself: how to reach it, since when it runs. */
export interface NodeRecord {
  id: string
  url: string
  startedAt: string
}

/** A live node as the registry lists it. */
export interface LiveNode {
  id: string
  record: NodeRecord | undefined
  /** Its last stats snapshot (written with each heartbeat). */
  stats: NodeStats | undefined
}

/**
 * This host's address as other nodes would reach it, for a node listening on every interface:
 * the first non-loopback IPv4 address, else the host name.
 */
export function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return hostname()
}

/** Entries removed per script call when reaping a dead node: keeps each call short. */
const REAP_CHUNK = 500

function parse<T>(json: string): T | undefined {
  if (json === '') return undefined
  try {
    return JSON.parse(json) as T
  } catch {
    return undefined
  }
}

/**
 * Node identity in Redis: a lease per node (`nodes`, a sorted set of expiry times on the Redis
 * clock) renewed by the heartbeat, the announced record, and a stats snapshot. A node whose
 * lease ran out is taken out of every topic by whichever live node notices it first.
 */
export class NodeRegistry {
  readonly #redis: Redis
  readonly #k: ClusterKeys
  readonly #self: string
  readonly #ttlMs: number
  readonly #record: () => NodeRecord
  readonly #stats: () => NodeStats
  readonly #log: Logger
  /** Announced URLs of nodes seen live, for the HTTP forwarder. */
  readonly #urls = new Map<string, string>()

  constructor(opts: {
    redis: Redis
    keys: ClusterKeys
    nodeId: string
    ttlMs: number
    record: () => NodeRecord
    stats: () => NodeStats
    log: Logger
  }) {
    this.#redis = opts.redis
    this.#k = opts.keys
    this.#self = opts.nodeId
    this.#ttlMs = opts.ttlMs
    this.#record = opts.record
    this.#stats = opts.stats
    this.#log = opts.log
  }

  /** Arguments of the heartbeat script: renew this node's lease, record and stats. */
  lease(): string[] {
    const k = this.#k
    return [
      k.nodes,
      k.nodeInfo,
      k.nodeStats,
      this.#self,
      `${this.#ttlMs}`,
      JSON.stringify(this.#record()),
      JSON.stringify(this.#stats()),
    ]
  }

  /** Renews the lease; false when it had run out (the node must re-register what it holds). */
  async beat(): Promise<boolean> {
    const args = this.lease() as [string, string, string, string, ...string[]]
    return (await this.#redis.sseHeartbeat(...args)) === 1
  }

  /** Takes every node whose lease ran out off every topic, connection and tail index. */
  async reap(): Promise<string[]> {
    const k = this.#k
    const dead = await this.#redis.sseDeadNodes(k.nodes)
    for (const node of dead) {
      this.#urls.delete(node)
      // Bounded: each call removes up to REAP_CHUNK entries of each kind, or stops.
      for (let i = 0; i < 100_000; i++) {
        const r = await this.#redis.sseRemoveNode(
          ...removeNodeKeys(k, node),
          node,
          k.prefix,
          `${REAP_CHUNK}`,
          'reap',
        )
        if (r !== 1) break
      }
      this.#log.warn({ deadNode: node }, 'node lease expired: removed from every topic')
    }
    return dead
  }

  /** Live nodes with their records and last stats, in id order. */
  async live(): Promise<LiveNode[]> {
    const k = this.#k
    const flat = await this.#redis.sseLiveNodes(k.nodes, k.nodeInfo, k.nodeStats)
    const out: LiveNode[] = []
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const id = flat[i] as string
      const record = parse<NodeRecord>(flat[i + 1] as string)
      if (record?.url) this.#urls.set(id, record.url)
      out.push({ id, record, stats: parse<NodeStats>(flat[i + 2] as string) })
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** The announced URL of a node (cached; asks Redis when unknown). */
  async urlOf(node: string): Promise<string | undefined> {
    const known = this.#urls.get(node)
    if (known) return known
    const json = await this.#redis.hget(this.#k.nodeInfo, node)
    const url = json ? parse<NodeRecord>(json)?.url : undefined
    if (url) this.#urls.set(node, url)
    return url
  }
}

/**
 * Cluster-wide stats from each live node's figures. Topics are counted once however many nodes
 * hold them, so `topics` is the directory's count rather than a sum.
 */
export function clusterStats(nodes: NodeStats[], topics: number): Stats {
  const sum = (f: (n: NodeStats) => number) => nodes.reduce((a, n) => a + f(n), 0)
  return {
    connections: sum((n) => n.connections),
    connectionsTotal: sum((n) => n.connectionsTotal),
    topics,
    published: sum((n) => n.published),
    delivered: sum((n) => n.delivered),
    dropped: sum((n) => n.dropped),
    bytesSent: sum((n) => n.bytesSent),
    slowConsumerDisconnects: sum((n) => n.slowConsumerDisconnects),
    // A node that wrote its figures before it counted these has none: 0.
    replayed: sum((n) => n.replayed ?? 0),
    gaps: sum((n) => n.gaps ?? 0),
    broadcasts: sum((n) => n.broadcasts ?? 0),
    directSends: sum((n) => n.directSends ?? 0),
    subscriptionsRefused: sum((n) => n.subscriptionsRefused ?? 0),
    // The oldest figures in the sum (ISO 8601 sorts by time); undated ones (older nodes) aside.
    asOf:
      nodes
        .map((n) => n.asOf)
        .filter((t): t is string => typeof t === 'string')
        .sort()[0] ?? new Date().toISOString(),
    nodes,
  }
}

/** `GET /admin/api/nodes` items: this node's figures live, the others' from their snapshot. */
export function nodeInfos(live: LiveNode[], self: string, own: NodeStats): NodeInfo[] {
  return live.map(({ id, record, stats }) => {
    const s = id === self ? own : stats
    return {
      id,
      url: record?.url ?? null,
      startedAt: record?.startedAt ?? '',
      connections: s?.connections ?? 0,
      topics: s?.topics ?? 0,
    }
  })
}
