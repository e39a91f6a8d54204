import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import {
  type Config,
  EncodedEvent,
  GatewayError,
  type GatewayBackend,
  type GatewayEvent,
  type Logger,
  SSE_HEADERS,
  type SubscribeRequest,
  type TopicQuery,
  type TailSink,
  corsHeaders,
  formatComment,
} from '@sse-gateway/core'
import type { Context } from 'hono'
import type { WebSocket, WebSocketServer } from 'ws'
import { type Counters, LocalConnection } from './connection.ts'
import type { TopicNamespace } from './namespace.ts'

/** What @hono/node-server and our upgrade handler put in `c.env`. */
export interface NodeBindings {
  incoming: IncomingMessage
  outgoing?: ServerResponse
  upgrade?: { socket: Socket; head: Buffer }
}
export type NodeContext = Context<{ Bindings: NodeBindings }>

/** Marker returned after a WebSocket upgrade: the socket now belongs to `ws`. */
export const UPGRADED = new Response(null, { status: 200, headers: { 'x-upgraded': '1' } })

const HEARTBEAT = Buffer.from(': heartbeat\n\n')

/** UTF-8 as a Buffer: what sockets take as it is (see EncodedEvent). */
const toBuffer = (text: string): Uint8Array => Buffer.from(text, 'utf8')
const CONNECTED = Buffer.from(formatComment('connected'))

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

  constructor(opts: {
    namespace: TopicNamespace
    wss: WebSocketServer
    config: BackendConfig
    counters: Counters
    log: Logger
  }) {
    this.#ns = opts.namespace
    this.nodeId = opts.namespace.nodeId
    this.#wss = opts.wss
    this.#config = opts.config
    this.counters = opts.counters
    this.#log = opts.log
  }

  get namespace(): TopicNamespace {
    return this.#ns
  }

  async liveTopics(topics: string[]): Promise<string[]> {
    const ns = this.#ns
    const live = await Promise.all(topics.map((t) => ns.get(ns.idFromName(t)).probe()))
    return topics.filter((_, i) => live[i])
  }

  async publish(events: GatewayEvent[]) {
    let subscribers = 0
    const ns = this.#ns
    const results = await Promise.all(
      events.map((ev) => ns.get(ns.idFromName(ev.topic)).publish(new EncodedEvent(ev, toBuffer))),
    )
    for (const n of results) subscribers += n
    this.counters.delivered += subscribers
    return {}
  }

  async dropped(topics: string[], id: string): Promise<void> {
    this.counters.dropped += topics.length
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

  /** This node's live subscriber connections. */
  readonly connections = new Set<LocalConnection>()

  get liveConnections(): number {
    return this.connections.size
  }

  async subscribe(c: NodeContext, req: SubscribeRequest): Promise<Response> {
    this.#checkCapacity()
    const { incoming } = c.env
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
      onClose: (conn: LocalConnection) => {
        this.connections.delete(conn)
        this.#ns.detach(conn)
      },
    }
    if (req.transport === 'ws') return this.#acceptWs(c, req, common)
    const out = c.env.outgoing
    if (!out) throw new GatewayError('bad_request', 'SSE needs a plain HTTP request')
    const socket = out.socket as Socket
    const conn = new LocalConnection({ ...common, socket })
    this.#openStream(c, out, { 'x-sse-connection-id': req.connectionId })
    this.connections.add(conn)
    this.counters.connectionsTotal++
    socket.once('close', () => conn.gone())
    try {
      await this.#ns.attach(conn)
    } catch (err) {
      this.#log.error({ err, connection: conn.id }, 'could not register connection')
      conn.close('unavailable')
      return RESPONSE_ALREADY_SENT
    }
    // Only now, with the topics registered everywhere, does the client hear it is connected: a
    // publish made anywhere after it sees this comment reaches it.
    if (!conn.closed) socket.write(CONNECTED)
    return RESPONSE_ALREADY_SENT
  }

  /** Sends the stream's headers at once, then leaves the socket to direct writes. */
  #openStream(c: NodeContext, out: ServerResponse, extra: Record<string, string>): void {
    // No chunked encoding: the stream is delimited by the connection's end, so each event is
    // written to the socket as the exact pre-encoded bytes, shared by every subscriber.
    out.useChunkedEncodingByDefault = false
    out.writeHead(200, {
      ...SSE_HEADERS,
      ...corsHeaders(this.#config.corsOrigins, c.req.header('origin') ?? null),
      'access-control-expose-headers': 'x-sse-connection-id',
      ...extra,
    })
    out.flushHeaders()
    const socket = out.socket as Socket
    socket.setNoDelay(true)
    socket.setTimeout(0)
  }

  #acceptWs(
    c: NodeContext,
    req: SubscribeRequest,
    common: ConstructorParameters<typeof LocalConnection>[0],
  ): Promise<Response> {
    const up = c.env.upgrade
    if (!up) throw new GatewayError('bad_request', 'GET /ws needs a WebSocket upgrade')
    const addId = (headers: string[]) => headers.push(`x-sse-connection-id: ${req.connectionId}`)
    return new Promise((resolve) => {
      this.#wss.on('headers', addId)
      try {
        this.#wss.handleUpgrade(c.env.incoming, up.socket, up.head, (ws: WebSocket) => {
          const conn = new LocalConnection({ ...common, ws })
          this.connections.add(conn)
          this.counters.connectionsTotal++
          ws.on('close', () => conn.gone())
          ws.on('error', () => conn.gone())
          ws.on('pong', () => conn.pong())
          this.#ns.attach(conn).catch((err: unknown) => {
            this.#log.error({ err, connection: conn.id }, 'could not register connection')
            conn.close('unavailable', 1011)
          })
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
    this.#openStream(c, out, {})
    const socket = out.socket as Socket
    socket.write(CONNECTED)
    const limit = this.#config.slowConsumerBytes
    const entry = { socket }
    const tail: TailSink = {
      writeRaw(bytes) {
        if (socket.writableLength > limit) socket.destroy()
        else socket.write(bytes)
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

  listConnections(q: { after: string | undefined; limit: number; topic: string | undefined }) {
    return this.#ns.listConnections(q)
  }

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
    for (const { socket } of this.#tails) socket.end()
  }
}
