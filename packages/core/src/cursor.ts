/**
 * Resume cursors: what the SSE `id:` field carries after the publisher's id, and what comes back
 * as `Last-Event-ID`. One cursor covers every topic of a subscription:
 *
 *   `<publisher id>~1.<topic hash>-<epoch>-<seq>.<topic hash>-<epoch>-<seq>…`
 *
 * all lower-case base36. `~` never occurs in an `x-sse-id`, so the publisher's id is everything
 * before the first `~`. The topic hash is FNV-1a (32 bits) of the topic name; the epoch names one
 * history of the topic's store (it changes when the store lost that history); seq is the last
 * sequence number of the topic the client has seen (dense per topic and epoch: every publish,
 * delivered or dropped, takes the next one; 0 = none yet).
 */

/** Where a client stands in one topic's history. */
export interface TopicPosition {
  epoch: string
  seq: number
}

export const CURSOR_SEPARATOR = '~'
const VERSION = '1'
/** Longer `Last-Event-ID` values are refused as malformed (64 topics fit in about 1.5 KiB). */
export const MAX_CURSOR_LENGTH = 4096
const EPOCH_RE = /^[0-9a-z]{1,16}$/
const PART_RE = /^([0-9a-z]{1,7})-([0-9a-z]{1,16})-([0-9a-z]{1,11})$/

const hashCache = new Map<string, string>()

/** FNV-1a (32 bits) of the topic name, base36: how a cursor names a topic without spelling it. */
export function topicHash(topic: string): string {
  const cached = hashCache.get(topic)
  if (cached !== undefined) return cached
  let h = 0x811c9dc5
  for (let i = 0; i < topic.length; i++) {
    h ^= topic.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  const out = (h >>> 0).toString(36)
  if (hashCache.size > 100_000) hashCache.clear() // topic names are bounded; the cache need not be
  hashCache.set(topic, out)
  return out
}

/** A new epoch: random, 8 base36 characters. */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint32Array(2))
  return (
    ((bytes[0] as number) % 36 ** 4).toString(36).padStart(4, '0') +
    ((bytes[1] as number) % 36 ** 4).toString(36).padStart(4, '0')
  )
}

/** Checks an epoch as a store makes it (base36, at most 16 characters). */
export function isEpoch(epoch: string): boolean {
  return EPOCH_RE.test(epoch)
}

/** One topic's part of a cursor. */
export function cursorPart(topic: string, pos: TopicPosition): string {
  return `${topicHash(topic)}-${pos.epoch}-${pos.seq.toString(36)}`
}

/**
 * The cursor of a subscription: each topic's position, in the subscription's order. A topic
 * without a position (its store has not answered yet) is left out; a resume then names it as
 * `unknown-topic`.
 */
export function encodeCursor(
  topics: readonly string[],
  position: (topic: string) => TopicPosition | undefined,
): string {
  let out = VERSION
  for (const t of topics) {
    const p = position(t)
    if (p !== undefined) out += `.${cursorPart(t, p)}`
  }
  return out
}

/** A parsed `Last-Event-ID`: topic hash → position, or why it is not one of ours. */
export type ParsedCursor =
  { ok: true; positions: Map<string, TopicPosition> } | { ok: false; reason: 'malformed' }

/**
 * Reads what a client sent back (`Last-Event-ID` or `?lastEventId=`): the whole `pub~cursor`
 * form or the cursor alone. Never throws: anything not written by the gateway is `malformed`.
 */
export function parseCursor(raw: string): ParsedCursor {
  const bad = { ok: false, reason: 'malformed' } as const
  if (raw.length > MAX_CURSOR_LENGTH) return bad
  const at = raw.indexOf(CURSOR_SEPARATOR)
  const cursor = at === -1 ? raw : raw.slice(at + 1)
  const parts = cursor.split('.')
  if (parts[0] !== VERSION) return bad
  const positions = new Map<string, TopicPosition>()
  for (let i = 1; i < parts.length; i++) {
    const m = PART_RE.exec(parts[i] as string)
    if (!m) return bad
    const seq = Number.parseInt(m[3] as string, 36)
    if (!Number.isSafeInteger(seq)) return bad
    positions.set(m[1] as string, { epoch: m[2] as string, seq })
  }
  return { ok: true, positions }
}

/** The publisher's id part of an SSE `id:` value (what `e.lastEventId.split('~')[0]` gives). */
export function publisherIdOf(sseId: string): string {
  const at = sseId.indexOf(CURSOR_SEPARATOR)
  return at === -1 ? sseId : sseId.slice(0, at)
}

/**
 * The cursor part of what a client sent back, when it is safe to write in an `id:` line: a
 * resumed connection's `gateway.connected` carries it, so a client library that forgets the last
 * id on an event without one (reqwest-eventsource does) still resumes from the right place.
 */
export function echoCursor(lastEventId: string | undefined): string | undefined {
  if (lastEventId === undefined) return undefined
  const cursor = lastEventId.slice(lastEventId.indexOf(CURSOR_SEPARATOR) + 1)
  return /^[\x21-\x7e]{1,4096}$/.test(cursor) ? cursor : undefined
}
