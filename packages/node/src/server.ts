import cluster from 'node:cluster'
import { existsSync } from 'node:fs'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import { hostname } from 'node:os'
import type { Socket } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import {
  type Config,
  type Logger,
  createGatewayApp,
  createIdGenerator,
  createKeyCheck,
  createPublish,
  createSubscribeGuard,
  errorResponse,
  readBodyText,
} from '@sse-gateway/core'
import type { Hono } from 'hono'
import { WebSocketServer } from 'ws'
import { newCounters } from './connection.ts'
import { readIncomingText } from './body.ts'
import { ConnectionsPerAddress } from './client-limits.ts'
import {
  keepsConnection,
  createFastPublish,
  createNativeSubscribe,
  isPublish,
  isSubscribe,
} from './native-routes.ts'
import { MemoryNamespace } from './memory-namespace.ts'
import { createMetrics } from './metrics.ts'
import type { TopicNamespace } from './namespace.ts'
import { NodeBackend, type NodeBindings, UPGRADED } from './node-backend.ts'
import { hostAddress } from './node-registry.ts'
import { writeRaw } from './raw-response.ts'
import { answerClientError, handshakeGuard, timeoutOptions } from './timeouts.ts'
import { decodeUtf8Headers } from './utf8-headers.ts'
import type { WorkersNamespace } from './workers-namespace.ts'

export interface NodeGateway {
  server: Server
  backend: NodeBackend
  namespace: TopicNamespace
  app: Hono
  /** Base URL once listening, e.g. http://127.0.0.1:8787 */
  url: string
  /**
   * Drains: stops accepting, closes every stream cleanly, deregisters (in a cluster after
   * DRAIN_LINGER_MS at most, see `TopicNamespace.drain`), closes the server.
   */
  close(): Promise<void>
}

export interface StartOptions {
  log: Logger
  /** Directory of the built admin UI (index.html); served at /admin/. */
  adminDir?: string | undefined
  /** A namespace to use instead of the one the config selects (tests). */
  namespace?: TopicNamespace
  /** DOCS_URL: where the admin console's header links for the docs. */
  docsUrl?: string | undefined
}

export function defaultNodeId(): string {
  return `${hostname()}-${Math.random().toString(36).slice(2, 8)}`
}

function announceUrl(config: Config, port: number): string {
  if (config.announceUrl) return config.announceUrl.replace(/\/+$/, '')
  const host =
    config.announceHost ??
    (config.host === '0.0.0.0' || config.host === '::' ? hostAddress() : config.host)
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

async function createNamespace(
  config: Config,
  nodeId: string,
  counters: ReturnType<typeof newCounters>,
  log: Logger,
  url: () => string,
): Promise<TopicNamespace> {
  if (!config.redisUrl && cluster.isWorker) {
    // WORKERS=N without Redis: the host's topics are the primary's (workers-primary.ts).
    const { WorkersNamespace } = await import('./workers-namespace.ts')
    const ns = new WorkersNamespace({ nodeId, counters, url })
    await ns.connect()
    return ns
  }
  if (!config.redisUrl) return new MemoryNamespace({ nodeId, counters, url: url(), config })
  const { RedisNamespace } = await import('./redis-namespace.ts')
  return new RedisNamespace({ config, nodeId, counters, log, url, forward: config.clusterForward })
}

/** Sends a Response through Node's response object, closing the connection after it. */
async function sendResponse(out: ServerResponse, res: Response): Promise<void> {
  const body = Buffer.from(await res.arrayBuffer())
  const headers: Record<string, string> = {
    connection: 'close',
    'content-length': String(body.length),
  }
  res.headers.forEach((v, k) => {
    headers[k] = v
  })
  out.writeHead(res.status, headers)
  out.end(body)
}

function requestOf(req: IncomingMessage): Request {
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v)
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
  })
}

/**
 * Node hands every request with an `Upgrade` header to the `upgrade` event, body and all. Only a
 * WebSocket GET is one for us; anything else (a publish with `Upgrade: h2c`, …) is refused
 * rather than half-served.
 */
function notAWebSocketUpgrade(req: IncomingMessage): Response | undefined {
  if (req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket') return undefined
  return errorResponse(
    'bad_request',
    `this gateway upgrades only GET /ws to a WebSocket (got ${req.method} with Upgrade: ${String(req.headers.upgrade).slice(0, 32)}); send other requests without an Upgrade header`,
  )
}

/** Starts a gateway node: HTTP server, WebSocket upgrades, heartbeats, metrics, admin UI. */
export async function startGateway(config: Config, opts: StartOptions): Promise<NodeGateway> {
  const { log } = opts
  const counters = newCounters()
  const nodeId = config.nodeId ?? defaultNodeId()
  let boundPort = config.port
  const namespace =
    opts.namespace ??
    (await createNamespace(config, nodeId, counters, log, () => announceUrl(config, boundPort)))
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 64 * 1024,
  })
  const backend = new NodeBackend({ namespace, wss, config, counters, log })
  const metrics = createMetrics({
    counters,
    liveConnections: () => backend.liveConnections,
    topics: () => namespace.hub.topicCount,
    refusals: backend.refusals,
    ...(namespace instanceof MemoryNamespace ? { replay: () => namespace.store } : {}),
  })
  // WORKERS=N: a scrape, whichever worker takes it, answers for the whole host.
  const hostMetrics = 'hostMetrics' in namespace ? (namespace as WorkersNamespace) : undefined
  if (hostMetrics) hostMetrics.metricsJson = () => metrics.registry.getMetricsAsJSON()
  const adminDir = opts.adminDir && existsSync(opts.adminDir) ? opts.adminDir : undefined

  const newConnectionId = createIdGenerator()
  const app = createGatewayApp({
    backend,
    config,
    log,
    newConnectionId,
    about: { runtime: config.redisUrl ? 'cluster' : 'node', docs: opts.docsUrl },
    observer: metrics.observer,
    metrics: hostMetrics ? () => hostMetrics.hostMetrics() : metrics.render,
    readBody: (c, max) => {
      const incoming = (c.env as NodeBindings | undefined)?.incoming
      const ms = config.timeouts.bodyMs
      return incoming ? readIncomingText(incoming, max, ms) : readBodyText(c.req.raw, max, ms)
    },
    beforeRoutes(app) {
      namespace.routes?.(app)
      // A body left unread (a refusal) must not be taken for the next request on a keep-alive
      // connection: close the connection unless Node may read it and throw it away.
      app.use('*', async (c, next) => {
        await next()
        const incoming = (c.env as NodeBindings | undefined)?.incoming
        if (incoming && !c.res.headers.has('x-upgraded') && !keepsConnection(incoming)) {
          c.res.headers.set('connection', 'close')
        }
      })
      app.get('/', (c) => c.redirect('/admin/'))
      app.get('/admin', (c) => c.redirect('/admin/'))
      app.get('/admin/*', async (c, next) => {
        if (c.req.path.startsWith('/admin/api/')) return next()
        if (!adminDir) {
          return errorResponse(
            'not_found',
            'admin UI not built: run `npm run build -w @sse-gateway/admin`',
          )
        }
        const serve = serveStatic({
          root: adminDir,
          rewriteRequestPath: (p) => p.replace(/^\/admin/, ''),
        })
        const res = await serve(c, async () => {})
        if (res) return res
        if (c.finalized) return c.res
        // Deep links of the single-page app fall back to index.html.
        return serveStatic({ root: adminDir, path: 'index.html' })(c, next)
      })
    },
  })

  const fastPublish = createFastPublish({
    publish: createPublish({
      backend,
      config,
      checkKey: createKeyCheck(config.apiKeys),
      log,
      observer: metrics.observer,
    }),
    corsOrigins: config.corsOrigins,
    bodyTimeoutMs: config.timeouts.bodyMs,
    log,
  })
  // getRequestListener's default swaps in @hono/node-server's light Request/Response: without
  // it every answer is an undici Response read back as a stream, about 3× slower.
  const honoListener = getRequestListener(app.fetch)
  // The same private-topic check as the core app's /sse and /ws routes (PRIVATE_TOPICS).
  const guard = createSubscribeGuard(config.tokens, (reason) => backend.refused(reason))
  const nativeSubscribe = createNativeSubscribe({ backend, config, newConnectionId, guard, log })
  const perAddress = new ConnectionsPerAddress(config.maxConnectionsPerIp)
  // Sockets with no request in flight (spare browser sockets, idle keep-alive): the drain closes
  // them at once, instead of waiting SHUTDOWN_TIMEOUT_MS for a request that never comes. A
  // socket is in flight while Node holds a response for it (`_httpMessage`: a publish, pipelined
  // ones behind it included), or while it is in `busy`: a stream, which lets go of Node's
  // response once started (release-http.ts), an upgrade, any other route until it finishes.
  const sockets = new Set<Socket>()
  const busy = new WeakSet<Socket>()
  const inFlight = (socket: Socket) =>
    busy.has(socket) || (socket as Socket & { _httpMessage?: unknown })._httpMessage != null
  // Listener functions shared by every socket and response (`this` is the emitter): no closure
  // per connection or per request.
  function forgetSocket(this: Socket): void {
    sockets.delete(this)
  }
  function requestDone(this: ServerResponse): void {
    busy.delete(this.req.socket)
  }
  // POST /publish and GET /sse skip the router and the Web Request/Response (native-routes.ts).
  const server = createServer(timeoutOptions(config.timeouts), (req, res) => {
    if (perAddress.refuses(req.socket)) return void sendResponse(res, perAddress.response())
    // The publish path reads its headers as UTF-8 only where it refuses one (native-routes.ts).
    if (isPublish(req)) return fastPublish(req, res)
    decodeUtf8Headers(req)
    busy.add(req.socket)
    res.on('finish', requestDone)
    if (isSubscribe(req)) nativeSubscribe(req, res)
    else void honoListener(req, res)
  })
  server.on('connection', (socket: Socket) => {
    perAddress.track(socket)
    sockets.add(socket)
    socket.on('close', forgetSocket) // a socket closes once; `once` would cost a wrapper each
  })
  server.on('upgrade', async (req: IncomingMessage, socket: Socket, head: Buffer) => {
    busy.add(socket)
    socket.on('error', () => {})
    decodeUtf8Headers(req)
    const refusal = perAddress.refuses(socket) ? perAddress.response() : notAWebSocketUpgrade(req)
    if (refusal) return void writeRaw(socket, refusal)
    const guard = handshakeGuard(req, socket, config.timeouts, log)
    try {
      const res = await app.fetch(requestOf(req), { incoming: req, upgrade: { socket, head } })
      if (res !== UPGRADED && !socket.destroyed) await writeRaw(socket, res)
    } catch (err) {
      log.error({ err }, 'upgrade failed')
      if (!socket.destroyed) await writeRaw(socket, errorResponse('internal', 'internal error'))
    } finally {
      guard.done()
    }
  })
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) =>
    answerClientError(err, socket, config.timeouts, log),
  )
  // Streams are long-lived, but Node's request timers stop once a request has been received, so
  // only requests still arriving are bounded (HEADERS_TIMEOUT_MS, BODY_TIMEOUT_MS).
  server.keepAliveTimeout = config.timeouts.keepAliveMs

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address()
  if (addr && typeof addr === 'object') boundPort = addr.port
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`
  await namespace.start()

  const ticker = setInterval(() => backend.heartbeat(), config.heartbeatMs)
  ticker.unref()

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      backend.startDrain()
      // Cluster: the topics of the streams ended below stay registered a while (DRAIN_LINGER_MS),
      // so publishes made while their clients reconnect elsewhere are kept, not dropped.
      namespace.drain?.()
      clearInterval(ticker)
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      for (const socket of sockets) if (!inFlight(socket)) socket.destroy()
      backend.closeAll()
      wss.close()
      await namespace.stop().catch((err: unknown) => log.warn({ err }, 'could not deregister'))
      const timeout = new Promise<void>((resolve) =>
        setTimeout(resolve, config.shutdownTimeoutMs).unref(),
      )
      await Promise.race([closed, timeout])
      server.closeAllConnections()
    })()
    return closing
  }
  return { server, backend, namespace, app, url, close }
}
