import { formatEvent } from './sse.ts'

const encoder = new TextEncoder()

/** What a publisher sent for one topic: the gateway's unit of delivery. */
export interface GatewayEvent {
  topic: string
  id: string
  event?: string | undefined
  data: string
}

/** The JSON envelope used by WebSocket frames and by `?envelope=json` event streams. */
export function formatWsFrame(ev: GatewayEvent): string {
  return JSON.stringify({ topic: ev.topic, id: ev.id, event: ev.event ?? null, data: ev.data })
}

/**
 * One event, encoded at most once per wire format however many subscribers receive it: the
 * fan-out path writes these same bytes to every socket.
 */
export class EncodedEvent implements GatewayEvent {
  readonly topic: string
  readonly id: string
  readonly event: string | undefined
  readonly data: string
  #sse: Uint8Array | undefined
  #json: Uint8Array | undefined
  #envelope: Uint8Array | undefined

  constructor(ev: GatewayEvent) {
    this.topic = ev.topic
    this.id = ev.id
    this.event = ev.event
    this.data = ev.data
  }

  /** `id/event/topic/data` SSE frame. */
  get sse(): Uint8Array {
    this.#sse ??= encoder.encode(formatEvent(this))
    return this.#sse
  }

  /** JSON envelope `{"topic","id","event","data"}` as UTF-8 bytes (a WebSocket text frame). */
  get json(): Uint8Array {
    this.#json ??= encoder.encode(formatWsFrame(this))
    return this.#json
  }

  /** SSE frame whose data is the JSON envelope (`?envelope=json`). */
  get sseEnvelope(): Uint8Array {
    this.#envelope ??= encoder.encode(
      formatEvent({ id: this.id, event: this.event, topic: this.topic, data: formatWsFrame(this) }),
    )
    return this.#envelope
  }
}
