/**
 * The admin API's response shapes (docs/admin-api in DESIGN.md). Written out here on purpose:
 * the UI talks to the gateway over HTTP only and imports nothing from the server packages, so it
 * works the same against the Node gateway and the Worker.
 */

export interface PageBody<T> {
  items: T[]
  nextCursor: string | null
}

export interface TopicInfo {
  topic: string
  subscribers: number
  nodes: string[]
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

export interface Stats {
  connections: number
  connectionsTotal: number
  topics: number
  published: number
  delivered: number
  dropped: number
  bytesSent: number
  slowConsumerDisconnects: number
  nodes: { node: string }[]
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

/** The gateway's rule for topic names: 1–128 of A–Z a–z 0–9 - _ . : @ / */
export const TOPIC_PATTERN = /^[A-Za-z0-9_.:@/-]{1,128}$/
