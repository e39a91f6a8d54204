import { GatewayError } from './errors.ts'
import { parseTopics } from './topics.ts'

/** What a subscribe request asked for, validated. */
export interface SubscriptionAsk {
  topics: string[]
  /** `?envelope=json`: SSE data is the JSON envelope. */
  envelope: boolean
  /** `Last-Event-ID`, or `?lastEventId=` for a first connection that kept an id. */
  lastEventId: string | undefined
}

/**
 * Reads `GET /sse` and `GET /ws`: topics from `x-sse-topic` or `?topic=`, `?envelope=`, and the
 * resume cursor from `Last-Event-ID` or `?lastEventId=`. Written once for the Hono route and
 * the Node runtime's own subscribe path. Throws GatewayError (400) naming what is wrong.
 */
export function parseSubscription(
  header: (name: string) => string | null | undefined,
  query: (name: string) => string | null | undefined,
  maxTopics: number,
): SubscriptionAsk {
  const topics = parseTopics(header('x-sse-topic') ?? query('topic'), maxTopics)
  const envelope = query('envelope') ?? undefined
  if (envelope !== undefined && envelope !== 'json' && envelope !== 'none') {
    throw new GatewayError('bad_request', `invalid envelope "${envelope.slice(0, 32)}": use json`)
  }
  return {
    topics,
    envelope: envelope === 'json',
    lastEventId: header('last-event-id') ?? query('lastEventId') ?? undefined,
  }
}
