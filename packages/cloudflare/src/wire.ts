import type { ResumeAsk, TopicHistory } from '@sse-gateway/core'

/**
 * What the Worker and the topic objects say to each other, beside the RPC methods: the requests
 * that open streams (`stub.fetch`, so that a response body streams and the client's abort reaches
 * the object) and how a topic object's stream begins when the Worker merges several.
 */

/** Origin of a topic object's endpoints (never resolved). */
export const HUB_ORIGIN = 'https://topic-hub'

/** Header the Worker sends with a WebSocket upgrade: who connects, to which topics. */
export const CONN_HEADER = 'x-gateway-conn'

export interface ConnHeader {
  id: string
  topics: string[]
  remoteAddress: string | null
  userAgent: string | null
  /** What the client sent to resume (`?lastEventId=`), as it sent it. */
  lastEventId: string | null
  /** Private topics: when the subscriber's token expires (ms since the epoch). */
  expiresAt?: number | undefined
  /** The private topics among `topics`. */
  privateTopics?: string[] | undefined
}

/**
 * A topic object's stream as one part of a multi-topic subscription begins with this comment,
 * then the topic's history as JSON on the same line: the Worker plans the connection's replay
 * from every topic's history and never passes this line on.
 */
export const HISTORY_PREFIX = ': history '

export function historyFrame(history: TopicHistory): string {
  return `${HISTORY_PREFIX}${JSON.stringify(history)}\n\n`
}

/** A resume ask as a query parameter (`resume=`). */
export function encodeAsk(ask: ResumeAsk): string {
  return JSON.stringify(ask)
}

/** Reads `resume=`; undefined when absent or not one the Worker wrote. */
export function parseAsk(raw: string | null): ResumeAsk | undefined {
  if (raw === null) return undefined
  try {
    const ask = JSON.parse(raw) as ResumeAsk
    if (typeof ask?.topic !== 'string') return undefined
    if ('gap' in ask && typeof ask.gap === 'string') return ask
    if (
      'after' in ask &&
      typeof ask.after?.epoch === 'string' &&
      Number.isSafeInteger(ask.after.seq)
    ) {
      return ask
    }
  } catch {
    // Not JSON.
  }
  return undefined
}
