import type { RefusalReason, Transport } from '@sse-gateway/core'

/** A live connection as a registry object keeps it (the admin listing adds the counters). */
export interface ConnRecord {
  id: string
  transport: Transport
  topics: string[]
  /** WebSocket: the topic object that holds the socket (its first topic). SSE: null. */
  home: string | null
  connectedAt: string
  remoteAddress: string | null
  userAgent: string | null
}

/** The topic objects that hold a connection's streams: every topic for SSE, the home for WS. */
export function holdersOf(rec: Pick<ConnRecord, 'transport' | 'topics' | 'home'>): string[] {
  return rec.transport === 'ws' && rec.home !== null ? [rec.home] : rec.topics
}

/** Counter deltas a topic object reports to the registry (see `TopicHub#flushCounts`). */
export interface Counts {
  published: number
  delivered: number
  dropped: number
  bytesSent: number
  slowConsumerDisconnects: number
  /** Events written to resuming connections from the replay window. */
  replayed: number
  /** `gateway.gap` events sent. */
  gaps: number
  /** Broadcasts (`x-sse-topic: *`) accepted, drops included. */
  broadcasts: number
  /** Direct sends written to their connection. */
  directSends: number
}

export const COUNT_NAMES = [
  'published',
  'delivered',
  'dropped',
  'bytesSent',
  'slowConsumerDisconnects',
  'replayed',
  'gaps',
  'broadcasts',
  'directSends',
] as const satisfies ReadonlyArray<keyof Counts>

export function zeroCounts(): Counts {
  return {
    published: 0,
    delivered: 0,
    dropped: 0,
    bytesSent: 0,
    slowConsumerDisconnects: 0,
    replayed: 0,
    gaps: 0,
    broadcasts: 0,
    directSends: 0,
  }
}

/** What one registry object knows, for `GET /admin/api/stats`. */
export interface RegistryTotals extends Counts {
  connections: number
  connectionsTotal: number
  /** Distinct topics in this shard (exact only with one shard: see `listTopics` merging). */
  topics: number
  /** When the first registry object was created (ms since the epoch): the deployment's start. */
  createdAt: number
  /** Subscriptions refused for a private topic, by reason (their sum: `subscriptionsRefused`). */
  refusedByReason: Record<RefusalReason, number>
  subscriptionsRefused: number
}

/** Per-connection delivery counters, as a topic object reports them: `[events, bytes]`. */
export type ConnCounters = Record<string, [number, number]>
