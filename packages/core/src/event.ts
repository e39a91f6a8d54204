import { CURSOR_SEPARATOR, cursorPart } from './cursor.ts'
import { formatEvent } from './sse.ts'

const encoder = new TextEncoder()
const encodeUtf8 = (text: string): Uint8Array => encoder.encode(text)

/** What a publisher sent for one topic: the gateway's unit of delivery. */
export interface GatewayEvent {
  topic: string
  id: string
  event?: string | undefined
  data: string
  /** The topic's sequence number for this event, given by the topic's store (resume). */
  seq?: number | undefined
  /** The store's epoch `seq` belongs to. */
  epoch?: string | undefined
}

/**
 * How one subscriber's frames name their resume cursor. Every subscriber of a single topic
 * shares the cursor the event itself gives (`key` ''); subscribers of several topics share one
 * per topic list on a node (`key`: the list), made from where each of those topics stands.
 */
export interface CursorScope {
  readonly key: string
  /** The cursor to write after `ev` (without the publisher's id). */
  cursor(ev: GatewayEvent): string
}

/** The scope of every single-topic subscription: the cursor is the event's own position. */
export const SINGLE_TOPIC: CursorScope = {
  key: '',
  cursor: (ev) => singleTopicCursor(ev),
}

function singleTopicCursor(ev: GatewayEvent): string {
  return `1.${cursorPart(ev.topic, { epoch: ev.epoch as string, seq: ev.seq as number })}`
}

/** The SSE `id:` of an event: `<publisher id>~<cursor>`, or the publisher's id when unsequenced. */
export function sseIdOf(ev: GatewayEvent, cursor: string | undefined): string {
  return cursor === undefined ? ev.id : `${ev.id}${CURSOR_SEPARATOR}${cursor}`
}

/** The JSON envelope used by WebSocket frames and by `?envelope=json` event streams. */
export function formatWsFrame(ev: GatewayEvent, cursor?: string): string {
  return JSON.stringify({
    topic: ev.topic,
    id: ev.id,
    event: ev.event ?? null,
    data: ev.data,
    cursor: cursor ?? null,
  })
}

/** Encoders a runtime may pass: `text` for WebSocket frames, `sse` for event-stream bytes. */
export interface EventEncoders {
  /** Text to UTF-8 bytes; a runtime passes its own when its sockets take another subclass (Node: Buffer). */
  text?: (text: string) => Uint8Array
  /** An SSE frame to the bytes written to the stream (Node: one HTTP/1.1 chunk). Default: `text`. */
  sse?: (frame: string) => Uint8Array
}

type Format = 0 | 1 | 2
const SSE: Format = 0
const JSON_FRAME: Format = 1
const ENVELOPE: Format = 2

/**
 * One event, encoded at most once per wire format and cursor scope however many subscribers
 * receive it: the fan-out path writes these same bytes to every socket of a scope (every
 * single-topic subscriber shares one).
 */
export class EncodedEvent implements GatewayEvent {
  readonly topic: string
  readonly id: string
  readonly event: string | undefined
  readonly data: string
  readonly seq: number | undefined
  readonly epoch: string | undefined
  readonly #text: (text: string) => Uint8Array
  readonly #sseEncode: (frame: string) => Uint8Array
  /** Single-topic bytes per format (the common case: no map lookup). */
  readonly #single: Array<Uint8Array | undefined> = [undefined, undefined, undefined]
  /** Bytes of multi-topic scopes, per format then key. */
  #scoped: Array<Map<string, Uint8Array>> | undefined

  constructor(ev: GatewayEvent, encoders: EventEncoders = {}) {
    this.topic = ev.topic
    this.id = ev.id
    this.event = ev.event
    this.data = ev.data
    this.seq = ev.seq
    this.epoch = ev.epoch
    this.#text = encoders.text ?? encodeUtf8
    this.#sseEncode = encoders.sse ?? this.#text
  }

  #cursor(scope: CursorScope): string | undefined {
    if (this.seq === undefined || this.epoch === undefined) return undefined
    return scope.key === '' ? singleTopicCursor(this) : scope.cursor(this)
  }

  #encode(format: Format, scope: CursorScope): Uint8Array {
    const cursor = this.#cursor(scope)
    if (format === JSON_FRAME) return this.#text(formatWsFrame(this, cursor))
    const data = format === ENVELOPE ? formatWsFrame(this, cursor) : this.data
    return this.#sseEncode(
      formatEvent({ id: sseIdOf(this, cursor), event: this.event, topic: this.topic, data }),
    )
  }

  #get(format: Format, scope: CursorScope): Uint8Array {
    if (scope.key === '') {
      let b = this.#single[format]
      if (b === undefined) {
        b = this.#encode(format, scope)
        this.#single[format] = b
      }
      return b
    }
    this.#scoped ??= [new Map(), new Map(), new Map()]
    const byKey = this.#scoped[format] as Map<string, Uint8Array>
    let b = byKey.get(scope.key)
    if (b === undefined) {
      b = this.#encode(format, scope)
      byKey.set(scope.key, b)
    }
    return b
  }

  /** `id/event/topic/data` SSE frame. */
  sse(scope: CursorScope = SINGLE_TOPIC): Uint8Array {
    return this.#get(SSE, scope)
  }

  /** JSON envelope `{"topic","id","event","data","cursor"}` as UTF-8 (a WebSocket text frame). */
  json(scope: CursorScope = SINGLE_TOPIC): Uint8Array {
    return this.#get(JSON_FRAME, scope)
  }

  /** SSE frame whose data is the JSON envelope (`?envelope=json`). */
  sseEnvelope(scope: CursorScope = SINGLE_TOPIC): Uint8Array {
    return this.#get(ENVELOPE, scope)
  }
}

/** The topic field of a broadcast's frames: no topic is named `*`, so it cannot be mistaken. */
export const BROADCAST_TOPIC = '*'

/**
 * An event addressed to connections rather than to a topic: a broadcast (every connection) or a
 * direct send (one connection). It is in no topic's sequence and is never replayed, so its SSE
 * frame has no `id:` line: the client's Last-Event-ID, its resume position, stays as it was. The
 * publisher's id travels in the JSON envelope (WebSocket frames, `?envelope=json`).
 */
export interface Message {
  id: string
  event?: string | undefined
  data: string
  /** `*` for a broadcast; undefined for a direct send. */
  topic?: typeof BROADCAST_TOPIC | undefined
}

/** A message encoded at most once per wire format, whatever the number of sockets it reaches. */
export class EncodedMessage {
  readonly message: Message
  readonly #text: (text: string) => Uint8Array
  readonly #sseEncode: (frame: string) => Uint8Array
  #sse: Uint8Array | undefined
  #json: Uint8Array | undefined
  #envelope: Uint8Array | undefined

  constructor(message: Message, encoders: EventEncoders = {}) {
    this.message = message
    this.#text = encoders.text ?? encodeUtf8
    this.#sseEncode = encoders.sse ?? this.#text
  }

  #envelopeText(): string {
    const m = this.message
    return JSON.stringify({
      topic: m.topic ?? null,
      id: m.id,
      event: m.event ?? null,
      data: m.data,
      cursor: null,
    })
  }

  /** SSE frame: `event:` (if any), `topic: *` for a broadcast, `data:`; no `id:`. */
  sse(): Uint8Array {
    const m = this.message
    this.#sse ??= this.#sseEncode(formatEvent({ event: m.event, topic: m.topic, data: m.data }))
    return this.#sse
  }

  /** WebSocket text frame `{"topic","id","event","data","cursor":null}`. */
  json(): Uint8Array {
    this.#json ??= this.#text(this.#envelopeText())
    return this.#json
  }

  /** SSE frame whose data is the JSON envelope (`?envelope=json`); no `id:`. */
  sseEnvelope(): Uint8Array {
    const m = this.message
    this.#envelope ??= this.#sseEncode(
      formatEvent({ event: m.event, topic: m.topic, data: this.#envelopeText() }),
    )
    return this.#envelope
  }
}
