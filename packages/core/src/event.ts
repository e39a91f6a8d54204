import { formatEvent } from './sse.ts'

const encoder = new TextEncoder()
const encodeUtf8 = (text: string): Uint8Array => encoder.encode(text)

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

  readonly #encode: (text: string) => Uint8Array

  /**
   * `encode` turns text into UTF-8 bytes; a runtime passes its own when its sockets take
   * another `Uint8Array` subclass without copying (Node: `Buffer`, which `socket.write` would
   * otherwise wrap once per subscriber).
   */
  constructor(ev: GatewayEvent, encode: (text: string) => Uint8Array = encodeUtf8) {
    this.topic = ev.topic
    this.id = ev.id
    this.event = ev.event
    this.data = ev.data
    this.#encode = encode
  }

  /** `id/event/topic/data` SSE frame. */
  get sse(): Uint8Array {
    this.#sse ??= this.#encode(formatEvent(this))
    return this.#sse
  }

  /** JSON envelope `{"topic","id","event","data"}` as UTF-8 bytes (a WebSocket text frame). */
  get json(): Uint8Array {
    this.#json ??= this.#encode(formatWsFrame(this))
    return this.#json
  }

  /** SSE frame whose data is the JSON envelope (`?envelope=json`). */
  get sseEnvelope(): Uint8Array {
    this.#envelope ??= this.#encode(
      formatEvent({ id: this.id, event: this.event, topic: this.topic, data: formatWsFrame(this) }),
    )
    return this.#envelope
  }
}
