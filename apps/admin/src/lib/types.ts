/**
 * The admin API's response shapes (docs/admin-api in DESIGN.md). Written out here on purpose:
 * the UI talks to the gateway over HTTP only and imports nothing from the server packages, so it
 * works the same against the Node gateway and the Worker.
 */

export interface PageBody<T> {
  items: T[]
  nextCursor: string | null
  /** A sorted connection listing that sorted only this many of the matches (the rest unsorted). */
  sortedOf?: number
}

export interface TopicInfo {
  topic: string
  subscribers: number
  nodes: string[]
  /** The topic's replay window (events held, their bytes where known); null when none. */
  window?: { events: number; bytes: number | null } | null
}

/** `GET /admin/api/topics/{topic}`: who holds a topic, node by node. */
export interface TopicPresence {
  topic: string
  subscribers: number
  nodes: { node: string; subscribers: number }[]
  since: string
}

export interface ConnectionInfo {
  id: string
  transport: 'sse' | 'ws'
  topics: string[]
  node: string
  connectedAt: string
  remoteAddress: string | null
  userAgent: string | null
  eventsSent: number
  bytesSent: number
}

/** The counters of `GET /admin/api/stats`, for the deployment and for each node. */
export interface Counters {
  connections: number
  connectionsTotal: number
  topics: number
  published: number
  delivered: number
  dropped: number
  bytesSent: number
  slowConsumerDisconnects: number
  replayed?: number
  gaps?: number
  /** Broadcasts (`x-sse-topic: *`) and direct sends, where the gateway counts them. */
  broadcasts?: number
  directSends?: number
  /** Subscriptions refused for private topics (401/403). */
  subscriptionsRefused?: number
  /** When the figures were read; for a peer node, its last heartbeat. */
  asOf?: string
}

export interface NodeStats extends Counters {
  node: string
}

export interface Stats extends Counters {
  nodes: NodeStats[]
}

/** `GET /admin/api/nodes`. */
export interface NodeInfo {
  id: string
  url: string | null
  startedAt: string
  connections: number
  topics: number
}

/** `GET /admin/api/info`: what the header shows. */
export interface GatewayInfo {
  version: string
  runtime: 'node' | 'cluster' | 'cloudflare'
  node: string
  startedAt: string | null
  docs: string | null
}

/** The connection search (`GET /admin/api/connections?…`): every field given must match. */
export interface ConnectionSearch {
  topic: string
  id: string
  topicPrefix: string
  address: string
  userAgent: string
}

/** One line of a topic's tail: a delivered publish, or a drop (no subscriber; no body). */
export type TailEntry =
  | {
      kind: 'publish'
      seq: number
      topic: string
      id: string
      event: string | null
      data: string
      subscribers: number | null
      time: string
    }
  | { kind: 'drop'; seq: number; topic: string; id: string; time: string }
  | {
      /** A resume: `gap` (the connection missed events) or `replay` (it was sent held ones). */
      kind: 'gap' | 'replay'
      seq: number
      topic: string
      /** No publisher id: the notice is keyed by the connection. */
      id: string
      connectionId: string
      reason: string | null
      missed: number | null
      replayed: number | null
      time: string
    }

/** The gateway's rule for topic names: 1–128 of A–Z a–z 0–9 - _ . : @ / */
export const TOPIC_PATTERN = /^[A-Za-z0-9_.:@/-]{1,128}$/
