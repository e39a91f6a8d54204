import { formatComment } from '@sse-gateway/core'

const encoder = new TextEncoder()
const CONNECTED = encoder.encode(formatComment('connected'))
const HEARTBEAT = encoder.encode(formatComment('heartbeat'))

/** One SSE stream a topic object writes to: a subscriber's piece, or an admin tail. */
export interface TopicStream {
  readonly id: string
  readonly kind: 'sub' | 'tail'
  /** `?envelope=json`: data is the JSON envelope. */
  readonly envelope: boolean
  /** This stream carries heartbeats (in a merged multi-topic stream only the first piece does). */
  readonly heartbeat: boolean
  readonly writer: WritableStreamDefaultWriter<ArrayBufferView>
  /** Set by every write, cleared by the heartbeat tick: only idle streams get a heartbeat. */
  wrote: boolean
  /**
   * Bytes of a resume's replay written at once: they may sit unread beyond the slow-consumer
   * bound until the reader has caught up once (then this is 0 again).
   */
  allowance: number
  events: number
  bytes: number
}

export type GoneReason = 'left' | 'closed' | 'slow'

/**
 * The open SSE streams of one topic object, and their heartbeats.
 *
 * workerd learns that a client left only when it next writes to it, so the heartbeat is also how
 * a departure is noticed (with `request_signal_passthrough`, the request's signal aborts within
 * one or two intervals). The first write after a client left still succeeds: a delivery count
 * can include one client that is already gone.
 */
export class TopicStreams {
  readonly subs = new Map<string, TopicStream>()
  readonly tails = new Set<TopicStream>()
  readonly #heartbeatMs: number
  readonly #slowBytes: number
  readonly #onGone: (s: TopicStream, reason: GoneReason) => void
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(opts: {
    heartbeatMs: number
    slowConsumerBytes: number
    onGone: (s: TopicStream, reason: GoneReason) => void
  }) {
    this.#heartbeatMs = opts.heartbeatMs
    this.#slowBytes = opts.slowConsumerBytes
    this.#onGone = opts.onGone
  }

  /**
   * Opens a stream: `body` is its readable side (the response). `connected` writes the
   * `: connected` comment first (a tail, which goes to the client as it is).
   */
  open(opts: {
    id: string
    kind: 'sub' | 'tail'
    envelope: boolean
    heartbeat: boolean
    connected: boolean
    signal: AbortSignal | undefined
  }): { stream: TopicStream; body: ReadableStream<Uint8Array> } {
    // A native byte stream: workerd pipes it to the client without running JS per chunk.
    const { readable, writable } = new IdentityTransformStream({ highWaterMark: 64 * 1024 })
    const s: TopicStream = {
      id: opts.id,
      kind: opts.kind,
      envelope: opts.envelope,
      heartbeat: opts.heartbeat,
      writer: writable.getWriter(),
      wrote: false,
      allowance: 0,
      events: 0,
      bytes: 0,
    }
    if (opts.kind === 'sub') this.subs.set(s.id, s)
    else this.tails.add(s)
    s.writer.closed.catch(() => this.#gone(s, 'left'))
    opts.signal?.addEventListener('abort', () => this.#gone(s, 'left'), { once: true })
    if (opts.connected) this.write(s, CONNECTED)
    this.#timer ??= setInterval(() => this.#tick(), this.#heartbeatMs)
    return { stream: s, body: readable }
  }

  /** Writes without waiting. False when the stream is gone or was closed as a slow consumer. */
  write(s: TopicStream, bytes: Uint8Array): boolean {
    const size = s.writer.desiredSize
    if (size === null) {
      this.#gone(s, 'left')
      return false
    }
    if (size >= 0) s.allowance = 0
    else if (size < -(this.#slowBytes + s.allowance)) {
      s.writer.abort('slow consumer').catch(() => {})
      this.#gone(s, 'slow')
      return false
    }
    s.writer.write(bytes).catch(() => this.#gone(s, 'left'))
    s.wrote = true
    return true
  }

  /** Writes what a connection gets before its live stream (a resume's replay): exempt from the slow-consumer bound once. */
  writeAhead(s: TopicStream, bytes: Uint8Array): boolean {
    s.allowance += bytes.byteLength
    return this.write(s, bytes)
  }

  /** Ends a subscriber's stream cleanly (admin disconnect). False when there is no such stream. */
  close(id: string): boolean {
    const s = this.subs.get(id)
    if (!s) return false
    s.writer.close().catch(() => {})
    this.#gone(s, 'closed')
    return true
  }

  get size(): number {
    return this.subs.size + this.tails.size
  }

  #tick(): void {
    for (const s of [...this.subs.values(), ...this.tails]) {
      if (!s.heartbeat) continue
      if (s.wrote) s.wrote = false
      else if (this.write(s, HEARTBEAT)) s.wrote = false
    }
  }

  #gone(s: TopicStream, reason: GoneReason): void {
    const known = s.kind === 'sub' ? this.subs.get(s.id) === s : this.tails.has(s)
    if (!known) return
    if (s.kind === 'sub') this.subs.delete(s.id)
    else this.tails.delete(s)
    if (this.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
    this.#onGone(s, reason)
  }
}
