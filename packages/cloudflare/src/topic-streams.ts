import { formatComment } from '@sse-gateway/core'

const encoder = new TextEncoder()
const CONNECTED = encoder.encode(formatComment('connected'))
const HEARTBEAT = encoder.encode(formatComment('heartbeat'))
/** The smallest write an SSE client ignores: an empty comment (see DISCONNECT_CHECK_MS). */
const PING = encoder.encode(':\n\n')

/** One SSE stream a topic object writes to: a subscriber's piece, or an admin tail. */
export interface TopicStream {
  readonly id: string
  readonly kind: 'sub' | 'tail'
  /** `?envelope=json`: data is the JSON envelope. */
  readonly envelope: boolean
  /** This stream carries heartbeats (in a merged multi-topic stream only the first piece does). */
  readonly heartbeat: boolean
  readonly writer: WritableStreamDefaultWriter<ArrayBufferView>
  /** When an event or heartbeat was last written: a heartbeat goes to streams idle for HEARTBEAT_MS. */
  lastBeat: number
  /** When anything was last written, pings included. */
  lastWrite: number
  /**
   * Bytes of a resume's replay written at once: they may sit unread beyond the slow-consumer
   * bound until the reader has caught up once (then this is 0 again).
   */
  allowance: number
  events: number
  bytes: number
  /** A write is with the stream (not yet taken by its reader): later writes wait in `queued`. */
  busy: boolean
  /** Writes made while busy, sent as one chunk once the stream has taken the one before. */
  queued: Uint8Array[]
  queuedBytes: number
}

export type GoneReason = 'left' | 'closed' | 'slow'

/**
 * The open SSE streams of one topic object, their heartbeats and their pings.
 *
 * workerd (locally) learns that a client left only when it next writes to it: the client's
 * leaving aborts the request's signal, the object's stream and (with `request_signal_passthrough`)
 * the object's own request signal, all at that write. So a stream that wrote nothing for
 * `checkMs` (DISCONNECT_CHECK_MS) gets an empty comment (`:` and a blank line, 3 bytes), and a
 * client that left is noticed within about that long; the `: heartbeat` comment still goes to a
 * stream idle for HEARTBEAT_MS, as on every runtime.
 */
export class TopicStreams {
  readonly subs = new Map<string, TopicStream>()
  readonly tails = new Set<TopicStream>()
  readonly #heartbeatMs: number
  readonly #checkMs: number
  readonly #tickMs: number
  readonly #slowBytes: number
  readonly #onGone: (s: TopicStream, reason: GoneReason) => void
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(opts: {
    heartbeatMs: number
    /** Ping an idle stream this often to notice a client that left; 0: only the heartbeat does. */
    disconnectCheckMs: number
    slowConsumerBytes: number
    onGone: (s: TopicStream, reason: GoneReason) => void
  }) {
    this.#heartbeatMs = opts.heartbeatMs
    this.#checkMs = opts.disconnectCheckMs
    this.#tickMs = this.#checkMs > 0 ? Math.min(this.#checkMs, opts.heartbeatMs) : opts.heartbeatMs
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
      lastBeat: Date.now(),
      lastWrite: Date.now(),
      allowance: 0,
      events: 0,
      bytes: 0,
      busy: false,
      queued: [],
      queuedBytes: 0,
    }
    if (opts.kind === 'sub') this.subs.set(s.id, s)
    else this.tails.add(s)
    s.writer.closed.catch(() => this.#gone(s, 'left'))
    opts.signal?.addEventListener('abort', () => this.#gone(s, 'left'), { once: true })
    if (opts.connected) this.write(s, CONNECTED)
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs)
    return { stream: s, body: readable }
  }

  /**
   * Writes without waiting. False when the stream is gone or was closed as a slow consumer.
   *
   * While the stream has not yet taken the previous write, this one is queued, and everything
   * queued goes as one chunk when it has: under load a subscriber gets several events in one
   * write, as the Node gateway writes what queued in one event-loop turn at once. workerd's cost
   * is per chunk (through the stream to the Worker's response and the socket), not per byte.
   */
  write(s: TopicStream, bytes: Uint8Array): boolean {
    const size = s.writer.desiredSize
    if (size === null) {
      this.#gone(s, 'left')
      return false
    }
    const room = size - s.queuedBytes
    if (room >= 0) s.allowance = 0
    else if (room < -(this.#slowBytes + s.allowance)) {
      s.writer.abort('slow consumer').catch(() => {})
      this.#gone(s, 'slow')
      return false
    }
    if (s.busy) {
      s.queued.push(bytes)
      s.queuedBytes += bytes.byteLength
    } else this.#send(s, bytes)
    s.lastWrite = Date.now()
    if (bytes !== PING) s.lastBeat = s.lastWrite
    return true
  }

  #send(s: TopicStream, bytes: Uint8Array): void {
    s.busy = true
    s.writer.write(bytes).then(
      () => {
        s.busy = false
        if (s.queued.length > 0) this.#send(s, this.#takeQueued(s))
      },
      () => this.#gone(s, 'left'),
    )
  }

  /** What is queued on `s`, as one chunk; the queue is emptied. */
  #takeQueued(s: TopicStream): Uint8Array {
    const q = s.queued
    s.queued = []
    s.queuedBytes = 0
    if (q.length === 1) return q[0] as Uint8Array
    let n = 0
    for (const b of q) n += b.byteLength
    const all = new Uint8Array(n)
    let at = 0
    for (const b of q) {
      all.set(b, at)
      at += b.byteLength
    }
    return all
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
    // What is queued goes first: the writer keeps its own writes in order before the close.
    if (s.queued.length > 0) s.writer.write(this.#takeQueued(s)).catch(() => {})
    s.writer.close().catch(() => {})
    this.#gone(s, 'closed')
    return true
  }

  get size(): number {
    return this.subs.size + this.tails.size
  }

  #tick(): void {
    const now = Date.now()
    const slack = this.#tickMs / 2 // timers run a little late or early
    for (const s of [...this.subs.values(), ...this.tails]) {
      if (!s.heartbeat) continue
      if (now - s.lastBeat + slack >= this.#heartbeatMs) this.write(s, HEARTBEAT)
      else if (this.#checkMs > 0 && now - s.lastWrite + slack >= this.#checkMs) this.write(s, PING)
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
