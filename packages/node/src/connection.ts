import { afterAppends } from './append-gate.ts'
import type { Socket } from 'node:net'
import {
  type ConnectionInfo,
  type CursorScope,
  EncodedEvent,
  type EncodedMessage,
  type GatewayEvent,
  SINGLE_TOPIC,
  type Sink,
  type TopicPosition,
  type Transport,
  coveredBy,
  GATEWAY_EVENTS,
  encodeResumeCursor,
  formatEvent,
  gapData,
  formatWsFrame,
  gatewaySseFrame,
  gatewayWsFrame,
  sseIdOf,
  tokenExpiredData,
} from '@sse-gateway/core'
import type { WebSocket } from 'ws'
import { END_CHUNK, chunkOf } from './frames.ts'

/** Counters of one node, shared by its connections and shown in stats and metrics. */
export interface Counters {
  connectionsTotal: number
  published: number
  delivered: number
  dropped: number
  bytesSent: number
  slowConsumerDisconnects: number
  replayed: number
  gaps: number
  /** Broadcasts this node accepted from a publisher, drops included. */
  broadcasts: number
  /** Direct sends this node accepted and wrote (here or on the node holding the connection). */
  directSends: number
  /** Subscriptions refused for a private topic (401 or 403). */
  subscriptionsRefused: number
}

export function newCounters(): Counters {
  return {
    connectionsTotal: 0,
    published: 0,
    delivered: 0,
    dropped: 0,
    bytesSent: 0,
    slowConsumerDisconnects: 0,
    replayed: 0,
    gaps: 0,
    broadcasts: 0,
    directSends: 0,
    subscriptionsRefused: 0,
  }
}

/** Longest delay a Node timer takes (about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647

const HEARTBEAT = chunkOf(': heartbeat\n\n')

/**
 * Connections written to since the last flush. A socket is corked at its first event and
 * uncorked once the event loop has run every I/O callback that was ready (setImmediate): events
 * that queue up within one loop iteration (a burst of publishes, one publish to several topics
 * of a connection) leave in one write call per socket instead of one each. Events that arrive
 * one at a time still leave within the same iteration. On a cluster node the flush also waits
 * for the Redis appends in flight, at most 2 ms (append-gate.ts).
 */
const held: LocalConnection[] = []
let flushScheduled = false

function holdUntilFlush(conn: LocalConnection): void {
  held.push(conn)
  if (flushScheduled) return
  flushScheduled = true
  afterAppends(flushHeld)
}

function flushHeld(): void {
  flushScheduled = false
  // Indexing, not iterating a copy: the array is reused, so a flush allocates nothing.
  for (let i = 0; i < held.length; i++) held[i]?.flush()
  held.length = 0
}

/**
 * `socket.write` wraps a plain Uint8Array in a new Buffer on every call; the same event goes
 * to every subscriber, so the last wrapper is kept and reused.
 */
let lastBytes: Uint8Array | undefined
let lastBuffer: Buffer | undefined
function asBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes
  if (bytes !== lastBytes) {
    lastBytes = bytes
    lastBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  return lastBuffer as Buffer
}

/**
 * One subscriber connection on this node: an SSE stream written straight to its socket, or a
 * WebSocket. It is the hub's sink for each of its topics. Writes never wait: past the
 * slow-consumer bound of unsent bytes the connection is closed and counted.
 */
export class LocalConnection implements Sink {
  readonly id: string
  readonly transport: Transport
  readonly topics: string[]
  readonly node: string
  /** When it connected (ms since the epoch; `info()` gives the ISO string). */
  readonly connectedMs: number
  readonly remoteAddress: string | null
  readonly userAgent: string | null
  eventsSent = 0
  bytesSent = 0
  /** Set by every write, cleared by the heartbeat ticker: an idle connection gets a heartbeat. */
  wrote = false
  closed = false
  readonly #socket: Socket | undefined
  readonly #ws: WebSocket | undefined
  readonly #envelope: boolean
  readonly #limit: number
  readonly #counters: Counters
  readonly #onClose: (conn: LocalConnection) => void
  /** How this connection's frames name their cursor (set by the namespace when it attaches). */
  scope: CursorScope = SINGLE_TOPIC
  /**
   * Live events that arrive while the connection is being attached and its replay written: held,
   * then written by `goLive` (undefined once live).
   */
  #pending: Array<EncodedEvent | EncodedMessage> | undefined
  #pendingBytes = 0
  /**
   * Per topic, the position the replay reached: a live event at or before it is a duplicate. A
   * one-topic connection keeps its one position (a Map would cost ~180 bytes a connection).
   */
  #floor: Map<string, TopicPosition> | TopicPosition | undefined
  /** Ends the connection when its subscriber token expires (private topics only). */
  #expiry: ReturnType<typeof setTimeout> | undefined

  constructor(opts: {
    id: string
    transport: Transport
    topics: string[]
    node: string
    remoteAddress: string | undefined
    userAgent: string | undefined
    envelope: boolean
    socket?: Socket
    ws?: WebSocket
    slowConsumerBytes: number
    counters: Counters
    onClose: (conn: LocalConnection) => void
  }) {
    this.id = opts.id
    this.transport = opts.transport
    this.topics = opts.topics
    this.node = opts.node
    this.connectedMs = Date.now()
    this.remoteAddress = opts.remoteAddress ?? null
    this.userAgent = opts.userAgent ?? null
    this.#socket = opts.socket
    this.#ws = opts.ws
    this.#envelope = opts.envelope
    this.#limit = opts.slowConsumerBytes
    this.#counters = opts.counters
    this.#onClose = opts.onClose
  }

  /** Bytes accepted but not yet handed to the kernel. */
  get buffered(): number {
    if (this.#socket) return this.#socket.writableLength
    return this.#ws?.bufferedAmount ?? 0
  }

  write(ev: EncodedEvent): boolean {
    if (this.closed) return false
    if (this.#pending) {
      this.#pending.push(ev)
      this.#pendingBytes += ev.data.length
      if (this.#pendingBytes > this.#limit) {
        this.#counters.slowConsumerDisconnects++
        this.close('slow consumer')
        return false
      }
      return true
    }
    if (this.#floor !== undefined && this.#belowFloor(this.#floor, ev)) return false
    if (this.buffered > this.#limit) {
      this.#counters.slowConsumerDisconnects++
      this.close('slow consumer')
      return false
    }
    const scope = this.scope
    const bytes = this.#socket
      ? this.#envelope
        ? ev.sseEnvelope(scope)
        : ev.sse(scope)
      : ev.json(scope)
    this.#send(bytes)
    this.eventsSent++
    return true
  }

  /**
   * A broadcast or a direct send: the same bytes for every connection of its wire format, no
   * cursor (the client's resume position stays where it was). Held, like a live event, while
   * the connection is being attached: it never comes before `: connected`.
   */
  writeMessage(msg: EncodedMessage): boolean {
    if (this.closed) return false
    if (this.#pending) {
      this.#pending.push(msg)
      this.#pendingBytes += msg.message.data.length
      if (this.#pendingBytes > this.#limit) {
        this.#counters.slowConsumerDisconnects++
        this.close('slow consumer')
        return false
      }
      return true
    }
    if (this.buffered > this.#limit) {
      this.#counters.slowConsumerDisconnects++
      this.close('slow consumer')
      return false
    }
    this.#send(this.#socket ? (this.#envelope ? msg.sseEnvelope() : msg.sse()) : msg.json())
    this.eventsSent++
    return true
  }

  /**
   * Ends the connection at `expiresAt` (its subscriber token's expiry): `gateway.token-expired`
   * first, then a clean end (WebSocket: close 1008). One timer, unref'd, cleared on close.
   */
  expireAt(expiresAt: number, privateTopics: string[]): void {
    if (this.closed) return
    clearTimeout(this.#expiry)
    const wait = expiresAt - Date.now()
    this.#expiry = setTimeout(
      () => {
        this.#expiry = undefined
        if (Date.now() < expiresAt) return this.expireAt(expiresAt, privateTopics)
        this.writeGatewayEvent(
          GATEWAY_EVENTS.tokenExpired,
          tokenExpiredData(privateTopics, expiresAt),
          undefined,
        )
        this.close('token expired', 1008)
      },
      Math.min(Math.max(wait, 0), MAX_TIMER_MS),
    )
    this.#expiry.unref()
  }

  /** Writes bytes made for this connection alone, or shared ones (SSE: chunk-framed). */
  #send(bytes: Uint8Array): void {
    const socket = this.#socket
    if (socket) {
      if (!this.#corked) {
        socket.cork()
        this.#corked = true
        holdUntilFlush(this)
      }
      socket.write(asBuffer(bytes))
    } else {
      this.#ws?.send(bytes, { binary: false })
    }
    this.wrote = true
    this.bytesSent += bytes.byteLength
    this.#counters.bytesSent += bytes.byteLength
  }

  /** A pre-framed SSE comment chunk (`: connected`); nothing on a WebSocket. */
  writeComment(chunk: Buffer): void {
    if (this.closed || !this.#socket) return
    this.#send(chunk)
  }

  /** One of the gateway's own events (`gateway.connected`, `gateway.gap`). */
  writeGatewayEvent(type: string, data: string, cursor: string | undefined): void {
    if (this.closed) return
    this.#send(
      this.#socket
        ? chunkOf(gatewaySseFrame(type, data, cursor))
        : Buffer.from(gatewayWsFrame(type, data, cursor)),
    )
  }

  /** Events of `topic` were lost on their way to this node: say so (see `Sink.gap`). */
  gap(topic: string, missed: number, at: TopicPosition): void {
    // While the connection is being attached, its resume accounts for what it missed.
    if (this.closed || this.#pending) return
    const data = gapData({ reason: 'expired', topics: [topic], missed: { [topic]: missed } })
    const cursor = this.scope.cursor({ topic, id: '', data: '', epoch: at.epoch, seq: at.seq })
    this.writeGatewayEvent(GATEWAY_EVENTS.gap, data, cursor)
    this.#counters.gaps++
  }

  /** An event from the replay window, with the cursor that resumes right after it. */
  writeReplayed(ev: GatewayEvent, cursor: string): void {
    if (this.closed) return
    this.#send(this.#frameFor(ev, cursor))
    this.eventsSent++
  }

  #frameFor(ev: GatewayEvent, cursor: string | undefined): Buffer {
    if (!this.#socket) return Buffer.from(formatWsFrame(ev, cursor))
    const data = this.#envelope ? formatWsFrame(ev, cursor) : ev.data
    return chunkOf(formatEvent({ id: sseIdOf(ev, cursor), event: ev.event, topic: ev.topic, data }))
  }

  /** Holds live events from now until `goLive` (set before the connection is attached). */
  holdUntilLive(): void {
    this.#pending ??= []
  }

  /**
   * Ends the seam between replay and live: writes the events held meanwhile that the replay did
   * not cover, then writes live events as they come. `positions` is where the replay left each
   * topic; held events of several topics get this connection's own cursor, since the node's
   * positions may already be past what it has written.
   */
  goLive(positions: Map<string, TopicPosition>): void {
    const held = this.#pending ?? []
    this.#pending = undefined
    this.#pendingBytes = 0
    const own = new Map(positions)
    const multi = this.topics.length > 1
    for (const ev of held) {
      if (this.closed) return
      if (!(ev instanceof EncodedEvent)) {
        this.writeMessage(ev)
        continue
      }
      if (coveredBy(own, ev)) continue
      if (ev.seq !== undefined && ev.epoch !== undefined) {
        own.set(ev.topic, { epoch: ev.epoch, seq: ev.seq })
      }
      if (!multi) {
        this.write(ev)
        continue
      }
      const cursor =
        ev.seq === undefined ? undefined : encodeResumeCursor(this.topics, (t) => own.get(t))
      this.#send(this.#frameFor(ev, cursor))
      this.eventsSent++
    }
    const only = this.topics[0] as string
    this.#floor =
      own.size === 0 ? undefined : !multi && own.size === 1 && own.has(only) ? own.get(only) : own
  }

  /**
   * Whether a live event is at or before the replay's position for its topic (a duplicate).
   * Events of a topic arrive in order: once one passes the floor, no later one is below it, and
   * the topic's floor is let go.
   */
  #belowFloor(floor: Map<string, TopicPosition> | TopicPosition, ev: EncodedEvent): boolean {
    if (floor instanceof Map) {
      if (!floor.has(ev.topic)) return false
      if (coveredBy(floor, ev)) return true
      floor.delete(ev.topic)
      if (floor.size === 0) this.#floor = undefined
      return false
    }
    if (ev.topic !== this.topics[0]) return false
    if (ev.seq !== undefined && ev.epoch === floor.epoch && ev.seq <= floor.seq) return true
    this.#floor = undefined
    return false
  }

  #awaitingPong = false
  /** The socket is corked until the next flush (see `holdUntilFlush`). */
  #corked = false

  /** Sends what was written since the last flush: one write call for all of it. */
  flush(): void {
    if (!this.#corked) return
    this.#corked = false
    this.#socket?.uncork()
  }

  /** A WebSocket answered our ping. */
  pong(): void {
    this.#awaitingPong = false
  }

  /**
   * One heartbeat tick. SSE: a comment when nothing was written since the last tick. WebSocket:
   * a ping, and a peer that did not answer the previous ping is gone.
   */
  heartbeat(): void {
    if (this.closed) return
    if (this.#ws) {
      if (this.#awaitingPong) {
        this.#ws.terminate()
        this.gone()
        return
      }
      this.#awaitingPong = true
      this.#ws.ping()
      return
    }
    if (this.wrote) {
      this.wrote = false
      return
    }
    // Still being attached: its first frame must be `: connected`, written once the topics
    // are registered (a cluster attach of many topics can outlast a heartbeat interval).
    if (this.#pending) return
    if (this.#socket) {
      if (this.buffered > this.#limit) {
        this.#counters.slowConsumerDisconnects++
        this.close('slow consumer')
        return
      }
      this.#socket.write(HEARTBEAT)
    }
  }

  /** Closes the connection; `onClose` runs once, whoever closes first (client, admin, drain). */
  close(reason: string, code = 1000): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.#expiry)
    if (this.#socket) {
      // A slow consumer would never drain its buffer: reset (RST), so the kernel drops its
      // unsent bytes at once, instead of a graceful end that keeps them until it gives up.
      if (reason === 'slow consumer') this.#socket.resetAndDestroy()
      else {
        this.flush()
        this.#socket.end(END_CHUNK)
      }
    } else if (this.#ws) {
      if (reason === 'slow consumer') this.#ws.terminate()
      else this.#ws.close(code, reason.slice(0, 120))
    }
    this.#onClose(this)
  }

  /** The socket went away by itself. */
  gone(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.#expiry)
    this.#onClose(this)
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      transport: this.transport,
      topics: this.topics,
      node: this.node,
      connectedAt: new Date(this.connectedMs).toISOString(),
      remoteAddress: this.remoteAddress,
      userAgent: this.userAgent,
      eventsSent: this.eventsSent,
      bytesSent: this.bytesSent,
    }
  }
}
