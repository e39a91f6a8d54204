import { type Context, Hono } from 'hono'
import { createAdminApi, type GatewayAbout } from './admin.ts'
import { createKeyCheck } from './auth.ts'
import { readBodyText } from './body.ts'
import type { Config } from './config.ts'
import { GatewayError, errorResponse } from './errors.ts'
import { createIdGenerator } from './ids.ts'
import { type GatewayBackend, type Logger, type PublishObserver, silentLogger } from './ports.ts'
import { SSE_HEADERS } from './sse.ts'
import { createPublish } from './publish.ts'
import { type TokenConfig, createSubscribeGuard } from './private-topics.ts'
import { parseSubscription } from './subscription.ts'

export interface GatewayDeps<C extends Context> {
  backend: GatewayBackend<C>
  config: Pick<Config, 'apiKeys' | 'maxTopicsPerConnection' | 'maxBodyBytes' | 'corsOrigins'> & {
    /** BODY_TIMEOUT_MS for the default body reader (none: the platform's own limit). */
    timeouts?: Pick<Config['timeouts'], 'bodyMs'>
    /** Private topics (none: every topic public, tokens never looked at). */
    tokens?: TokenConfig
  }
  log?: Logger
  observer?: PublishObserver
  /** Prometheus text for `GET /metrics`; without it the route answers 404. */
  metrics?: () => Promise<string>
  newConnectionId?: () => string
  /**
   * Reads a publish body as UTF-8 text, 413 past `max` bytes. Default: the Web `Request` body;
   * a runtime may read its native request instead when that is cheaper (Node).
   */
  readBody?: (c: C, max: number) => Promise<string>
  /** Registers runtime routes and middleware (static admin UI, …) ahead of the contract's. */
  beforeRoutes?: (app: Hono) => void
  /** What `GET /admin/api/info` says about this runtime (default: runtime `node`). */
  about?: GatewayAbout
}

/** Routes that exist, with the methods they take: anything else on them is a 405. */
const ALLOWED: Array<[RegExp, string]> = [
  [/^\/sse$/, 'GET, OPTIONS'],
  [/^\/ws$/, 'GET'],
  [/^\/publish$/, 'POST, OPTIONS'],
  [/^\/(healthz|readyz|metrics)$/, 'GET'],
  [/^\/admin\/api\/connections$/, 'GET, DELETE'],
  [/^\/admin\/api\/(topics|stats|nodes|info)$/, 'GET'],
  [/^\/admin\/api\/topics\/.+$/, 'GET'],
  [/^\/admin\/api\/connections\/[^/]+\/events$/, 'POST'],
  [/^\/admin\/api\/connections\/[^/]+$/, 'DELETE'],
]

export function corsHeaders(
  origins: readonly string[],
  origin: string | null,
): Record<string, string> {
  if (origins.length === 0 || origin === null) return {}
  if (origins.includes('*')) return { 'access-control-allow-origin': '*' }
  if (origins.includes(origin)) return { 'access-control-allow-origin': origin, vary: 'origin' }
  return {}
}

/**
 * The gateway as a Hono app: the contract's routes, validation, auth and error shape, over a
 * runtime backend. Runtime adapters add what is theirs (static admin UI, upgrades) around it.
 */
export function createGatewayApp<C extends Context>(deps: GatewayDeps<C>): Hono {
  const { backend, config, log = silentLogger, observer, metrics } = deps
  const newId = deps.newConnectionId ?? createIdGenerator()
  const readBody =
    deps.readBody ?? ((c: C, max: number) => readBodyText(c.req.raw, max, config.timeouts?.bodyMs))
  const checkKey = createKeyCheck(config.apiKeys)
  const publish = createPublish({ backend, config, checkKey, log, observer })
  const guard = createSubscribeGuard(config.tokens, (reason) => backend.refused(reason))
  const app = new Hono()

  app.onError((err, c) => {
    if (err instanceof GatewayError) {
      log.info(
        {
          code: err.code,
          status: err.status,
          method: c.req.method,
          path: c.req.path,
          error: err.message,
        },
        'request refused',
      )
      const res = err.toResponse()
      for (const [k, v] of Object.entries(
        corsHeaders(config.corsOrigins, c.req.header('origin') ?? null),
      ))
        res.headers.set(k, v)
      return res
    }
    log.error({ err, method: c.req.method, path: c.req.path }, 'internal error')
    return errorResponse('internal', 'internal error')
  })

  app.notFound((c) => {
    const allow = ALLOWED.find(([re]) => re.test(c.req.path))?.[1]
    if (allow) {
      return errorResponse(
        'method_not_allowed',
        `method ${c.req.method} not allowed on ${c.req.path}: use ${allow}`,
        { allow },
      )
    }
    return errorResponse('not_found', `no route for ${c.req.method} ${c.req.path}`)
  })

  deps.beforeRoutes?.(app)

  app.get('/healthz', (c) => c.json({ status: 'ok', node: backend.nodeId }))

  app.get('/readyz', async (c) => {
    const r = await backend.ready()
    return c.json(
      r.ready
        ? { status: 'ready', node: backend.nodeId }
        : { status: 'not_ready', reason: r.reason },
      r.ready ? 200 : 503,
    )
  })

  if (metrics) {
    app.get('/metrics', async (c) =>
      c.body(await metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
    )
  }

  const preflight = (c: Context) =>
    new Response(null, {
      status: 204,
      headers: {
        ...corsHeaders(config.corsOrigins, c.req.header('origin') ?? null),
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers':
          'authorization, x-api-key, x-sse-topic, x-sse-id, x-sse-event, last-event-id, content-type',
        'access-control-expose-headers': 'x-sse-connection-id',
        'access-control-max-age': '86400',
      },
    })
  app.options('/sse', preflight)
  app.options('/publish', preflight)

  const subscribe = (transport: 'sse' | 'ws') => async (c: Context) => {
    if (transport === 'ws' && c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new GatewayError(
        'bad_request',
        'GET /ws needs a WebSocket upgrade (Upgrade: websocket)',
      )
    }
    const ask = parseSubscription(
      (n) => c.req.header(n),
      (n) => c.req.query(n),
      config.maxTopicsPerConnection,
    )
    const grant =
      guard &&
      (await guard(ask.topics, { header: (n) => c.req.header(n), query: (n) => c.req.query(n) }))
    return backend.subscribe(c as C, {
      connectionId: newId(),
      transport,
      ...ask,
      remoteAddress: undefined,
      userAgent: c.req.header('user-agent'),
      expiresAt: grant?.expiresAt,
      privateTopics: grant?.privateTopics,
    })
  }
  app.get('/sse', subscribe('sse'))
  app.get('/ws', subscribe('ws'))

  app.post('/publish', async (c) => {
    const answer = await publish({
      headers: c.req.raw.headers,
      readBody: (max) => readBody(c as C, max),
    })
    return c.json(answer, 202, corsHeaders(config.corsOrigins, c.req.header('origin') ?? null))
  })

  app.route(
    '/admin/api',
    createAdminApi({
      backend,
      checkKey,
      readBody,
      maxBodyBytes: config.maxBodyBytes,
      about: deps.about,
    }),
  )
  return app
}

export { SSE_HEADERS }
