import {
  type CursorScope,
  EncodedEvent,
  GATEWAY_EVENTS,
  type GapInfo,
  type ResumeAsk,
  type TopicHistory,
  type TopicPosition,
  connectedData,
  echoCursor,
  encodeResumeCursor,
  formatComment,
  formatWsFrame,
  gapData,
  gatewaySseFrame,
  gatewayWsFrame,
  planReplay,
} from '@sse-gateway/core'

const encoder = new TextEncoder()
export const CONNECTED_COMMENT = encoder.encode(formatComment('connected'))

/**
 * What a connection gets before its live stream, in the order of docs/resume.md: the
 * `gateway.connected` event, then for a resume the `gateway.gap` events and the replayed events
 * (topic by topic). `positions` is where each topic stands once they are written: a live event
 * at or before it is a duplicate.
 */
export interface Opening {
  positions: Map<string, TopicPosition>
  /** Each item with the cursor written with it; `null`: no id (a resume from a cursor not safe to echo). */
  items: Array<
    | { kind: 'connected'; data: string; cursor: string | null }
    | { kind: 'gap'; gap: GapInfo; cursor: string }
    | { kind: 'event'; event: EncodedEvent; cursor: string }
  >
  replayed: number
  gaps: number
}

/** A cursor scope that names one cursor: replayed events each carry their own. */
function fixed(cursor: string): CursorScope {
  return { key: cursor, cursor: () => cursor }
}

/**
 * Plans the opening of a connection to `topics`, from each topic's history. `asks` undefined: a
 * fresh connection, whose `gateway.connected` carries the cursor of now (so that it can resume
 * even before its first event); a resumed one's carries the cursor it resumed from.
 */
export function planOpening(opts: {
  connectionId: string
  topics: readonly string[]
  asks: readonly ResumeAsk[] | undefined
  /** What the client sent to resume (Last-Event-ID or `?lastEventId=`). */
  lastEventId: string | undefined
  histories: ReadonlyMap<string, TopicHistory>
}): Opening {
  const { connectionId, topics, asks, histories } = opts
  const data = connectedData({ connectionId, topics: [...topics], resumed: asks !== undefined })
  if (asks === undefined) {
    const positions = new Map<string, TopicPosition>()
    for (const [t, h] of histories) positions.set(t, { epoch: h.epoch, seq: h.last })
    const cursor = encodeResumeCursor(topics, (t) => positions.get(t))
    return { positions, items: [{ kind: 'connected', data, cursor }], replayed: 0, gaps: 0 }
  }
  const plan = planReplay(topics, asks, histories)
  const echo = echoCursor(opts.lastEventId) ?? null
  const items: Opening['items'] = [{ kind: 'connected', data, cursor: echo }]
  for (const item of plan.items) {
    if (item.kind === 'gap') items.push(item)
    else items.push({ kind: 'event', event: new EncodedEvent(item.event), cursor: item.cursor })
  }
  return { positions: plan.positions, items, replayed: plan.replayed, gaps: plan.gaps }
}

/** The opening as SSE bytes, after the `: connected` comment. */
export function sseOpening(opening: Opening, envelope: boolean): Uint8Array {
  const parts: Uint8Array[] = [CONNECTED_COMMENT]
  for (const item of opening.items) {
    if (item.kind === 'connected') {
      const cursor = item.cursor ?? undefined
      parts.push(encoder.encode(gatewaySseFrame(GATEWAY_EVENTS.connected, item.data, cursor)))
    } else if (item.kind === 'gap') {
      parts.push(
        encoder.encode(gatewaySseFrame(GATEWAY_EVENTS.gap, gapData(item.gap), item.cursor)),
      )
    } else {
      const scope = fixed(item.cursor)
      parts.push(envelope ? item.event.sseEnvelope(scope) : item.event.sse(scope))
    }
  }
  let size = 0
  for (const p of parts) size += p.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/** The opening as WebSocket text frames. */
export function wsOpening(opening: Opening): string[] {
  return opening.items.map((item) => {
    if (item.kind === 'connected') {
      return gatewayWsFrame(GATEWAY_EVENTS.connected, item.data, item.cursor ?? undefined)
    }
    if (item.kind === 'gap')
      return gatewayWsFrame(GATEWAY_EVENTS.gap, gapData(item.gap), item.cursor)
    return formatWsFrame(item.event, item.cursor)
  })
}

/** The gaps of one topic in an opening, as its tails are told them. */
export function gapsOf(
  opening: Opening,
  topic: string,
): Array<{ reason: string; missed: number | undefined }> {
  const out: Array<{ reason: string; missed: number | undefined }> = []
  for (const item of opening.items) {
    if (item.kind === 'gap' && item.gap.topics.includes(topic)) {
      out.push({ reason: item.gap.reason, missed: item.gap.missed?.[topic] })
    }
  }
  return out
}
