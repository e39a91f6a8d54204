import { CURSOR_SEPARATOR } from './cursor.ts'
import { formatEvent } from './sse.ts'

/**
 * The gateway's own events. Their types share one reserved prefix, which publishers cannot use:
 * a publish with `x-sse-event: gateway.…` is a 400. They are named events, so a browser's
 * `onmessage` never sees them unless it listens with `addEventListener(type, …)`.
 */
export const RESERVED_EVENT_PREFIX = 'gateway.'

/** The reserved types, one table (docs/resume.md and docs/api.md list the same). */
export const GATEWAY_EVENTS = {
  /** First event of every connection: its id and topics. */
  connected: 'gateway.connected',
  /** A resuming client missed events the gateway can no longer replay. */
  gap: 'gateway.gap',
  /** The subscriber token of a private topic expired: the stream ends right after this. */
  tokenExpired: 'gateway.token-expired',
} as const

/** Why a resume could not replay a topic. */
export type GapReason = 'expired' | 'reset' | 'unknown-topic' | 'malformed'

export interface GapInfo {
  reason: GapReason
  topics: string[]
  /** Events missed per topic, where the count is known (dense sequence numbers). */
  missed?: Record<string, number>
}

export interface ConnectedInfo {
  connectionId: string
  topics: string[]
  resumed: boolean
}

/** `gateway.connected` data. */
export function connectedData(info: ConnectedInfo): string {
  return JSON.stringify({
    connectionId: info.connectionId,
    topics: info.topics,
    resumed: info.resumed,
  })
}

/** `gateway.gap` data. */
export function gapData(gap: GapInfo): string {
  return JSON.stringify(
    gap.missed === undefined
      ? { reason: gap.reason, topics: gap.topics }
      : { reason: gap.reason, topics: gap.topics, missed: gap.missed },
  )
}

/** `gateway.token-expired` data: the private topics the token covered, and when it expired. */
export function tokenExpiredData(privateTopics: string[], expiresAt: number): string {
  return JSON.stringify({ topics: privateTopics, expiredAt: new Date(expiresAt).toISOString() })
}

/**
 * One gateway event as an SSE frame. `cursor` becomes `id: ~<cursor>` (no publisher part);
 * without it the frame has no `id:` line and the client's last event id stays as it was.
 */
export function gatewaySseFrame(type: string, data: string, cursor?: string): string {
  return formatEvent({
    id: cursor === undefined ? undefined : `${CURSOR_SEPARATOR}${cursor}`,
    event: type,
    data,
  })
}

/** One gateway event as a WebSocket text frame (same keys as a published event's frame). */
export function gatewayWsFrame(type: string, data: string, cursor?: string): string {
  return JSON.stringify({ topic: null, id: null, event: type, data, cursor: cursor ?? null })
}
