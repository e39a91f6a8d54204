import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import {
  BROADCAST_TOPIC,
  type Config,
  EncodedMessage,
  GATEWAY_EVENTS,
  GatewayError,
  type GatewayBackend,
  type GatewayEvent,
  type Logger,
  type Message,
  type RefusalReason,
  SSE_HEADERS,
  type SubscribeRequest,
  type TopicQuery,
  type TailSink,
  type TopicHistory,
  type SortedConnectionQuery,
  type Page,
  type ConnectionInfo,
  type TopicPosition,
  type ConnectionQuery,
  connectedData,
  corsHeaders,
  echoCursor,
  encodeResumeCursor,
  gapData,
  planReplay,
  resumeAsks,
  tailGapFrame,
  tailReplayFrame,
} from '@sse-gateway/core'
import type { Context } from 'hono'
import type { WebSocket, WebSocketServer } from 'ws'
import { type Counters, LocalConnection } from './connection.ts'
import { releaseHttpState } from './release-http.ts'
import { CONNECTED_CHUNK, END_CHUNK, NODE_ENCODERS, chunkBytes, chunkOf } from './frames.ts'
import type { TopicNamespace } from './namespace.ts'

const CONNECTION = Symbol('connection')
/** What `dropped` returns when the drop is done at once. */
const DONE: Promise<void> = Promise.resolve()

/** The `close` listener of every stream's socket (`this`): one function, no closure per connection. */
function socketGone(this: Socket & { [CONNECTION]?: LocalConnection }): void {
  this[CONNECTION]?.gone()
}

/** What @hono/node-server and our upgrade handler put in `c.env`. */
export interface NodeBindings {
  incoming: IncomingMessage
  outgoing?: ServerResponse
  upgrade?: { socket: Socket; head: Buffer }
}
export type NodeContext = Context<{ Bindings: NodeBindings }>

/** A subscribe request as Node's server hands it over (origin: the `Origin` header). */
export interface NativeRequest extends NodeBindings {
  origin: string | undefined
}

/** Marker returned after a WebSocket upgrade: the socket now belongs to `ws`. */
export const UPGRADED = new Response(null, { status: 200, headers: { 'x-upgraded': '1' } })

const HEARTBEAT = chunkOf(': heartbeat\n\n')

type BackendConfig = Pick<
  Config,
  'maxConnections' | 'slowConsumerBytes' | 'corsOrigins' | 'heartbeatMs'
>

/**
 * The Node runtime under the core: SSE streams written straight to the socket (no web-stream
 * layers on the fan-out path), WebSockets through `ws`, topics through a namespace.
 */
export class NodeBackend implements GatewayBackend<NodeContext> {
  readonly nodeId: string
  readonly counters: Counters
  readonly #ns: TopicNamespace
  readonly #wss: WebSocketServer
  readonly #config: BackendConfig
  readonly #log: Logger
  readonly #tails = new Set<{ socket: Socket }>()
  #draining = false
  /** Subscriptions refused for a private topic, by reason (the metrics' label). */
  readonly refusals: Record<RefusalReason, number> = { unauthorized: 0, forbidden: 0 }

  constructor(opts: {
    namespace: TopicNamespace
    wss: WebSocketServer
    config: BackendConfig
    counters: Counters
    log: Logger
  }) {
    this.#ns = opts.namespace
    const sorted = opts.namespace.listConnectionsSorted?.bind(opts.namespace)
    if (sorted) this.listConnectionsSorted = sorted
    this.nodeId = opts.namespace.nodeId
    this.#wss = opts.wss
    this.#config = opts.config
    this.counters = opts.counters
    this.#log = opts.log
  }

  get namespace(): TopicNamespace {
    return this.#ns
  }

  liveTopics(topics: string[]): string[] | Promise<string[]> {
    const ns = this.#ns
    // One process: the answer is at hand, no promise per topic (the drop path's common case).
    if (ns.liveNow) {
      if (topics.length === 1) return ns.liveNow(topics[0] as string) ? topics : []
      return topics.filter((t) => ns.liveNow?.(t))
    }
    return Promise.all(topics.map((t) => ns.get(ns.idFromName(t)).probe())).then((live) =>
      topics.filter((_, i) => live[i]),
    )
  }

  async publish(events: GatewayEvent[]) {
    let subscribers = 0
    const ns = this.#ns
    const results = await Promise.all(
      events.map((ev) => ns.get(ns.idFromName(ev.topic)).publish(ev)),
    )
    for (const n of results) subscribers += n
    this.counters.delivered += subscribers
    return {}
  }

  dropped(topics: string[], id: string): Promise<void> {
    this.counters.dropped += topics.length
    // A broadcast nobody could receive: counted, and that is all (no topic, no tails of `*`).
    if (topics.length === 1 && topics[0] === BROADCAST_TOPIC) {
      this.counters.broadcasts++
      return DONE
    }
    const ns = this.#ns
    if (ns.dropNow) {
      // One process: done at once (the drop path allocates no promise for it).
      for (const t of topics) ns.dropNow(t, id)
      return DONE
    }
    return this.#droppedAsync(topics, id)
  }

  async #droppedAsync(topics: string[], id: string): Promise<void> {
    const ns = this.#ns
    await Promise.all(
      topics.map((t) =>
        ns
          .get(ns.idFromName(t))
          .drop(id)
          .catch((err: unknown) =>
            this.#log.warn({ err, topic: t }, 'could not tell tails of a drop'),
          ),
      ),
    )
  }

  anyConnection(): boolean | Promise<boolean> {
    // The namespace answers (at once when this node holds a connection): a cluster's must see
    // every broadcast's decision, to route it by a look-up made after the request arrived.
    return this.#ns.anyConnection()
  }

  async broadcast(message: Message) {
    this.counters.broadcasts++
    // Encoded once per wire format, whatever the number of connections and nodes.
    const n = await this.#ns.broadcast(new EncodedMessage(message, NODE_ENCODERS))
    return { subscribers: n }
  }

  async sendTo(connectionId: string, message: Message): Promise<boolean> {
    const sent = await this.#ns.sendTo(connectionId, new EncodedMessage(message, NODE_ENCODERS))
    if (sent) this.counters.directSends++
    return sent
  }

  presence(topic: string) {
    return this.#ns.presence(topic)
  }

  refused(reason: RefusalReason): void {
    this.counters.subscriptionsRefused++
    this.refusals[reason]++
  }

  #checkCapacity(): void {
    if (this.#draining) throw new GatewayError('unavailable', 'gateway is shutting down')
    if (this.liveConnections >= this.#config.maxConnections) {
      throw new GatewayError(
        'unavailable',
        `connection limit reached (MAX_CONNECTIONS=${this.#config.maxConnections}); retry later`,
        { headers: { 'retry-after': '5' } },
      )
    }
  }

  /** Forgets a closed connection (one function for all of them: no closure per connection). */
  readonly #onClose = (conn: LocalConnection): void => {
    this.connections.delete(conn)
    this.#ns.detach(conn)
  }

  /** This node's live subscriber connections. */
  readonly connections = new Set<LocalConnection>()

  get liveConnections(): number {
    return this.connections.size
  }

  subscribe(c: NodeContext, req: SubscribeRequest): Promise<Response> {
    const { incoming, outgoing, upgrade } = c.env
    return this.open({ incoming, outgoing, upgrade, origin: c.req.header('origin') }, req)
  }

  /**
   * Opens a validated subscription on the native request: from the core app's route, or straight
   * from the HTTP server for `GET /sse` (no router, no Web Request: see native-routes.ts).
   */
  async open(native: NativeRequest, req: SubscribeRequest): Promise<Response> {
    this.#checkCapacity()
    const { incoming } = native
    const common = {
      id: req.connectionId,
      transport: req.transport,
      topics: req.topics,
      node: this.nodeId,
      remoteAddress: incoming.socket.remoteAddress,
      userAgent: req.userAgent,
      envelope: req.envelope,
      slowConsumerBytes: this.#config.slowConsumerBytes,
      counters: this.counters,
      onClose: this.#onClose,
    }
    if (req.transport === 'ws') return this.#acceptWs(native, req, common)
    const out = native.outgoing
    if (!out) throw new GatewayError('bad_request', 'SSE needs a plain HTTP request')
    const socket = out.socket as Socket
    const conn = new LocalConnection({ ...common, socket })
    this.#openStream(native.origin, out, { 'x-sse-connection-id': req.connectionId })
    this.connections.add(conn)
    this.counters.connectionsTotal++
    ;(socket as Socket & { [CONNECTION]?: LocalConnection })[CONNECTION] = conn
    socket.on('close', socketGone) // a socket closes once; `once` would cost a wrapper each
    await this.#start(conn, req)
    // The request is complete by now: the stream no longer needs the HTTP server's state.
    if (!conn.closed) releaseHttpState(out, socket)
    return RESPONSE_ALREADY_SENT
  }

  /**
   * Registers the connection, then writes what it gets before its live stream: `: connected`
   * (SSE), `gateway.connected`, and for a resume the gaps and the replayed events; then live.
   * Only once the topics are registered everywhere does the client hear it is connected: a
   * publish made anywhere after that reaches it.
   */
  async #start(conn: LocalConnection, req: SubscribeRequest): Promise<void> {
    const asks = resumeAsks(req.topics, req.lastEventId)
    conn.holdUntilLive()
    let histories: Map<string, TopicHistory>
    try {
      histories = await this.#ns.attach(conn, asks)
    } catch (err) {
      this.#log.error({ err, connection: conn.id }, 'could not register connection')
      conn.close('unavailable', 1011)
      return
    }
    if (conn.closed) return
    conn.writeComment(CONNECTED_CHUNK)
    const info = { connectionId: conn.id, topics: conn.topics, resumed: asks !== undefined }
    let positions: Map<string, TopicPosition>
    if (asks === undefined) {
      positions = new Map()
      for (const [t, h] of histories) positions.set(t, { epoch: h.epoch, seq: h.last })
      const cursor =
        positions.size > 0 ? encodeResumeCursor(conn.topics, (t) => positions.get(t)) : undefined
      conn.writeGatewayEvent(GATEWAY_EVENTS.connected, connectedData(info), cursor)
    } else {
      // The cursor it resumes from, as its own id: a client library that forgets the last id on
      // an event without one (reqwest-eventsource does) still resumes from the right place.
      conn.writeGatewayEvent(
        GATEWAY_EVENTS.connected,
        connectedData(info),
        echoCursor(req.lastEventId),
      )
      const plan = planReplay(conn.topics, asks, histories)
      const replayedOf = new Map<string, number>()
      for (const item of plan.items) {
        if (item.kind === 'event') {
          conn.writeReplayed(item.event, item.cursor)
          replayedOf.set(item.event.topic, (replayedOf.get(item.event.topic) ?? 0) + 1)
          continue
        }
        conn.writeGatewayEvent(GATEWAY_EVENTS.gap, gapData(item.gap), item.cursor)
        this.#log.info(
          { connection: conn.id, reason: item.gap.reason, topics: item.gap.topics },
          'resume gap',
        )
        for (const t of item.gap.topics) {
          const frame = tailGapFrame(t, {
            connectionId: conn.id,
            reason: item.gap.reason,
            missed: item.gap.missed?.[t],
          })
          this.#ns.hub.tailNotice(t, frame)
        }
      }
      // Tails see the replay too: which connection got how many held events of their topic.
      for (const [t, replayed] of replayedOf) {
        this.#ns.hub.tailNotice(t, tailReplayFrame(t, { connectionId: conn.id, replayed }))
      }
      this.counters.replayed += plan.replayed
      this.counters.gaps += plan.gaps
      positions = plan.positions
    }
    conn.goLive(positions)
    // A private topic's token: the stream ends when it expires (timer set once it is live, so
    // `gateway.token-expired` never comes before the opening).
    if (req.expiresAt !== undefined) conn.expireAt(req.expiresAt, req.privateTopics ?? [])
  }

  /** Sends the stream's headers at once, then leaves the socket to direct writes. */
  #openStream(
    origin: string | undefined,
    out: ServerResponse,
    extra: Record<string, string>,
  ): void {
    // Chunked, written by us: every event is one chunk whose bytes are encoded once and shared
    // by every subscriber (see frames.ts); the response object only sends the headers.
    out.useChunkedEncodingByDefault = false
    out.writeHead(200, {
      ...SSE_HEADERS,
      'transfer-encoding': 'chunked',
      ...corsHeaders(this.#config.corsOrigins, origin ?? null),
      // Only a subscriber's stream has a connection id to show (an admin tail has none).
      ...('x-sse-connection-id' in extra
        ? { 'access-control-expose-headers': 'x-sse-connection-id' }
        : {}),
      ...extra,
    })
    out.flushHeaders()
    const socket = out.socket as Socket
    socket.setNoDelay(true)
    socket.setTimeout(0)
  }

  #acceptWs(
    native: NativeRequest,
    req: SubscribeRequest,
    common: ConstructorParameters<typeof LocalConnection>[0],
  ): Promise<Response> {
    const up = native.upgrade
    if (!up) throw new GatewayError('bad_request', 'GET /ws needs a WebSocket upgrade')
    const addId = (headers: string[]) => headers.push(`x-sse-connection-id: ${req.connectionId}`)
    return new Promise((resolve) => {
      this.#wss.on('headers', addId)
      try {
        this.#wss.handleUpgrade(native.incoming, up.socket, up.head, (ws: WebSocket) => {
          const conn = new LocalConnection({ ...common, ws })
          this.connections.add(conn)
          this.counters.connectionsTotal++
          ws.on('close', () => conn.gone())
          ws.on('error', () => conn.gone())
          ws.on('pong', () => conn.pong())
          void this.#start(conn, req)
          resolve(UPGRADED)
        })
      } finally {
        this.#wss.off('headers', addId)
      }
      // handleUpgrade answers bad handshakes itself and never calls back.
      up.socket.once('close', () => resolve(UPGRADED))
    })
  }

  async tail(c: NodeContext, topic: string): Promise<Response> {
    const out = c.env.outgoing
    if (!out) throw new GatewayError('bad_request', 'tail needs a plain HTTP request')
    this.#openStream(c.req.header('origin'), out, {})
    const socket = out.socket as Socket
    socket.write(CONNECTED_CHUNK)
    const limit = this.#config.slowConsumerBytes
    const entry = { socket }
    const tail: TailSink = {
      writeRaw(bytes) {
        if (socket.writableLength > limit) socket.destroy()
        else socket.write(chunkBytes(bytes))
      },
    }
    this.#tails.add(entry)
    this.#ns.attachTail(topic, tail)
    socket.once('close', () => {
      this.#tails.delete(entry)
      this.#ns.detachTail(topic, tail)
    })
    return RESPONSE_ALREADY_SENT
  }

  listTopics(q: TopicQuery) {
    return this.#ns.listTopics(q)
  }

  listConnections(q: ConnectionQuery) {
    return this.#ns.listConnections(q)
  }

  /** Set when the namespace sorts by itself (one process); else the admin route sorts. */
  readonly listConnectionsSorted?: (q: SortedConnectionQuery) => Promise<Page<ConnectionInfo>>

  disconnect(id: string) {
    return this.#ns.disconnect(id)
  }

  stats() {
    return this.#ns.stats()
  }

  nodes() {
    return this.#ns.nodes()
  }

  async ready() {
    if (this.#draining) return { ready: false, reason: 'shutting down' }
    return this.#ns.ready()
  }

  /** One tick of the heartbeat: every idle stream gets a comment, every WebSocket a ping. */
  heartbeat(): void {
    for (const conn of this.connections) conn.heartbeat()
    for (const { socket } of this.#tails) socket.write(HEARTBEAT)
  }

  /** Stops taking connections; `closeAll` then ends every stream cleanly. */
  startDrain(): void {
    this.#draining = true
  }

  /** Ends every stream and WebSocket cleanly (WebSocket code 1001, going away). */
  closeAll(): void {
    for (const conn of [...this.connections]) conn.close('shutting down', 1001)
    for (const { socket } of this.#tails) socket.end(END_CHUNK)
  }
}
