import { type TopicPosition, encodeCursor, parseCursor, topicHash } from './cursor.ts'
import type { GatewayEvent } from './event.ts'
import type { GapInfo, GapReason } from './gateway-events.ts'

/** An event as a topic's replay window holds it. */
export interface StoredEvent {
  seq: number
  id: string
  event?: string | undefined
  data: string
}

/** What a resuming client asked for, per topic: a position to resume after, or why there is none. */
export type ResumeAsk = { topic: string; after: TopicPosition } | { topic: string; gap: GapReason }

/**
 * Reads `Last-Event-ID` (or `?lastEventId=`) against a subscription. Undefined when the client
 * sent none: a fresh connection, no history. Never throws.
 */
export function resumeAsks(
  topics: readonly string[],
  lastEventId: string | undefined,
): ResumeAsk[] | undefined {
  if (lastEventId === undefined) return undefined
  const parsed = parseCursor(lastEventId.trim())
  if (!parsed.ok) return topics.map((topic) => ({ topic, gap: 'malformed' }))
  const seen = new Set<string>()
  return topics.map((topic): ResumeAsk => {
    const h = topicHash(topic)
    const after = parsed.positions.get(h)
    // Two topics of one subscription with one hash: the cursor cannot tell them apart.
    if (after === undefined || seen.has(h)) return { topic, gap: 'unknown-topic' }
    seen.add(h)
    return { topic, after }
  })
}

/**
 * A topic's store, as a resume reads it: its epoch, the last sequence number it gave (published
 * or dropped), and the events it still holds after the position asked for, ascending. When the
 * epoch asked for is not the store's, `events` is everything it holds.
 */
export interface TopicHistory {
  epoch: string
  last: number
  events: StoredEvent[]
}

/** One thing to write to a resuming connection, with the cursor to write with it. */
export type ReplayItem =
  | { kind: 'gap'; gap: GapInfo; cursor: string }
  | { kind: 'event'; event: GatewayEvent & { seq: number; epoch: string }; cursor: string }

export interface ReplayPlan {
  items: ReplayItem[]
  /** Each topic's position once the items are written: live events at or before it are skipped. */
  positions: Map<string, TopicPosition>
  replayed: number
  gaps: number
}

/**
 * What a resuming connection gets before its live stream: `gateway.gap` items for what cannot
 * be replayed (grouped by reason), then the held events of each topic in order, each with the
 * cursor that resumes right after it. `histories` has an entry for every topic.
 */
export function planReplay(
  topics: readonly string[],
  asks: readonly ResumeAsk[],
  histories: ReadonlyMap<string, TopicHistory>,
): ReplayPlan {
  const positions = new Map<string, TopicPosition>()
  const gaps = new Map<GapReason, GapInfo>()
  const toReplay: Array<[string, TopicHistory]> = []
  const gap = (reason: GapReason, topic: string, missed?: number) => {
    let g = gaps.get(reason)
    if (!g) {
      g = { reason, topics: [] }
      gaps.set(reason, g)
    }
    g.topics.push(topic)
    if (missed !== undefined) g.missed = { ...g.missed, [topic]: missed }
  }
  for (const ask of asks) {
    const h = histories.get(ask.topic)
    if (!h) continue
    const now = { epoch: h.epoch, seq: h.last }
    if ('gap' in ask) {
      gap(ask.gap, ask.topic)
      positions.set(ask.topic, now)
      continue
    }
    const { after } = ask
    if (after.epoch !== h.epoch || after.seq > h.last) {
      // The store's history is not the one the cursor points into: say so, replay what it holds.
      gap('reset', ask.topic)
    } else {
      const missed = h.last - after.seq - h.events.length
      if (missed > 0) gap('expired', ask.topic, missed)
    }
    const first = h.events[0]
    positions.set(ask.topic, first ? { epoch: h.epoch, seq: first.seq - 1 } : now)
    if (h.events.length > 0) toReplay.push([ask.topic, h])
  }
  const cursor = () => encodeCursor(topics, (t) => positions.get(t))
  const items: ReplayItem[] = []
  for (const g of gaps.values()) items.push({ kind: 'gap', gap: g, cursor: cursor() })
  let replayed = 0
  for (const [topic, { epoch, events, last }] of toReplay) {
    for (const [i, e] of events.entries()) {
      // After the last held event the client has had, or been told about, everything up to the
      // store's last number (a drop after it was counted in the gap): a reconnect repeats nothing.
      positions.set(topic, { epoch, seq: i === events.length - 1 ? last : e.seq })
      items.push({
        kind: 'event',
        event: { topic, id: e.id, event: e.event, data: e.data, seq: e.seq, epoch },
        cursor: cursor(),
      })
      replayed++
    }
  }
  return { items, positions, replayed, gaps: gaps.size }
}

/**
 * True when a live event is already covered by what a resume wrote (same epoch, not after the
 * replayed position): the seam between replay and live writes each event once.
 */
export function coveredBy(
  positions: ReadonlyMap<string, TopicPosition>,
  ev: { topic: string; epoch?: string | undefined; seq?: number | undefined },
): boolean {
  if (ev.seq === undefined) return false
  const p = positions.get(ev.topic)
  return p !== undefined && p.epoch === ev.epoch && ev.seq <= p.seq
}
