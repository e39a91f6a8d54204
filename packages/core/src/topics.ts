import { GatewayError } from './errors.ts'
import { RESERVED_EVENT_PREFIX } from './gateway-events.ts'

/** Topic names and event ids: 1–128 characters from `A–Z a–z 0–9 - _ . : @ /`. */
export const NAME_RE = /^[A-Za-z0-9\-_.:@/]{1,128}$/

/** Shows a rejected value safely inside an error message (quoted, shortened, control chars escaped). */
export function quote(value: string): string {
  const short = value.length > 64 ? `${value.slice(0, 64)}…` : value
  return JSON.stringify(short)
}

/**
 * Strips HTTP's optional whitespace (spaces and tabs) around a value. Not `String.trim()`: that
 * also strips U+00A0 and other Unicode spaces, which a runtime that reads header bytes as latin1
 * (Node) would then accept where one that reads UTF-8 refuses them.
 */
function trimOws(s: string): string {
  // Most values have nothing to trim: two character checks instead of a regex replace.
  const first = s.charCodeAt(0)
  const last = s.charCodeAt(s.length - 1)
  if (first !== 32 && first !== 9 && last !== 32 && last !== 9) return s
  return s.replace(/^[ \t]+|[ \t]+$/g, '')
}

/**
 * Parses a comma-separated topic list, as sent in `x-sse-topic` or `?topic=`. Spaces around items
 * are ignored and duplicates removed (first occurrence keeps its place).
 *
 * @throws GatewayError bad_request naming the offending value.
 */
export function parseTopics(raw: string | null | undefined, max: number): string[] {
  if (raw == null)
    throw new GatewayError('bad_request', 'missing topic: send x-sse-topic or ?topic=')
  // One topic (every publish to one topic, most subscriptions): no split, no set, and an array
  // of exactly one element (a subscription keeps it for its life).
  if (raw.indexOf(',') === -1) {
    const t = trimOws(raw)
    if (t === '')
      throw new GatewayError('bad_request', 'empty topic list: send x-sse-topic or ?topic=')
    return [checkTopic(t)]
  }
  const topics: string[] = []
  const seen = new Set<string>()
  for (const part of raw.split(',')) {
    const t = trimOws(part)
    if (t === '') continue
    checkTopic(t)
    if (seen.has(t)) continue
    seen.add(t)
    topics.push(t)
  }
  if (topics.length === 0) {
    throw new GatewayError('bad_request', 'empty topic list: send x-sse-topic or ?topic=')
  }
  if (topics.length > max) {
    throw new GatewayError(
      'bad_request',
      `too many topics: ${topics.length} given, at most ${max} allowed`,
    )
  }
  return topics
}

function checkTopic(t: string): string {
  if (!NAME_RE.test(t)) {
    throw new GatewayError(
      'bad_request',
      `invalid topic ${quote(t)}: use 1-128 characters from A-Z a-z 0-9 - _ . : @ /`,
    )
  }
  return t
}

/** Checks an event id (`x-sse-id`): same characters as a topic, so it never carries a newline. */
export function validateId(raw: string | null | undefined): string {
  const id = raw == null ? '' : trimOws(raw)
  if (id === '') throw new GatewayError('bad_request', 'missing x-sse-id')
  if (!NAME_RE.test(id)) {
    throw new GatewayError(
      'bad_request',
      `invalid x-sse-id ${quote(id)}: use 1-128 characters from A-Z a-z 0-9 - _ . : @ /`,
    )
  }
  return id
}

/** Checks an event type (`x-sse-event`): same characters as a topic, not a reserved `gateway.` type. */
export function validateEventType(raw: string | null | undefined): string | undefined {
  if (raw == null) return undefined
  const ev = trimOws(raw)
  if (ev === '') return undefined
  if (!NAME_RE.test(ev)) {
    throw new GatewayError(
      'bad_request',
      `invalid x-sse-event ${quote(ev)}: use 1-128 characters from A-Z a-z 0-9 - _ . : @ /`,
    )
  }
  if (ev.startsWith(RESERVED_EVENT_PREFIX)) {
    throw new GatewayError(
      'bad_request',
      `invalid x-sse-event ${quote(ev)}: types starting with "${RESERVED_EVENT_PREFIX}" are reserved for the gateway's own events`,
    )
  }
  return ev
}

/** Checks one topic name, as in `/admin/api/topics/{topic}/tail`. */
export function validateTopic(raw: string): string {
  if (!NAME_RE.test(raw)) throw new GatewayError('bad_request', `invalid topic ${quote(raw)}`)
  return raw
}
