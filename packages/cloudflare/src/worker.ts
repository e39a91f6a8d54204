import { createGatewayApp, errorResponse } from '@sse-gateway/core'
import { WorkerEntrypoint } from 'cloudflare:workers'
import type { Hono } from 'hono'
import { CloudflareBackend } from './cf-backend.ts'
import type { Env } from './env.ts'
import { createLogger } from './log.ts'
import { readSettings } from './settings.ts'
import { serveAdminUi } from './static-admin.ts'
import { answerBeforeBody, unreadBodyMode } from './unread-body.ts'

export { Registry } from './registry.ts'
export { TopicHub } from './topic-hub.ts'

/**
 * Builds the gateway for this isolate's bindings. Bindings and vars are the same for every
 * request an isolate serves, so the app is built once; it keeps no state of its own.
 */
function build(
  env: Env,
  local?: { clientAddress: string },
): (req: Request, env: Env, ctx: ExecutionContext) => Promise<Response> {
  let settings: ReturnType<typeof readSettings>
  let unread: ReturnType<typeof unreadBodyMode>
  try {
    settings = readSettings(env)
    unread = unreadBodyMode(env.UNREAD_BODY)
    // Served straight from workerd's socket (see Gateway): an unread body would cost the
    // client its connection.
    if (local && unread === 'leave') unread = 'drain'
  } catch (err) {
    const message = (err as Error).message
    return async () => errorResponse('unavailable', `misconfigured: ${message}`)
  }
  if (!settings.keysConfigured) {
    // A generated key could be shown to nobody: refuse until a key is set.
    return async () =>
      errorResponse(
        'unavailable',
        'API_KEYS is not set: run `wrangler secret put API_KEYS` (or pass --var API_KEYS:… to wrangler dev)',
      )
  }
  const log = createLogger(settings.logLevel, { node: settings.nodeName })
  const backend = new CloudflareBackend(env, settings, log, local?.clientAddress)
  const app: Hono = createGatewayApp({
    backend,
    config: settings,
    log,
    metrics: () => backend.metrics(),
    about: { runtime: 'cloudflare', docs: env.DOCS_URL },
    beforeRoutes: serveAdminUi,
  })
  return async (req, e, ctx) => {
    const res = await app.fetch(req, e, ctx)
    backend.flushCounts(ctx)
    const background = backend.settled()
    if (background) ctx.waitUntil(background)
    return unread === 'leave' ? res : answerBeforeBody(req, res, ctx, unread)
  }
}

let handler: ReturnType<typeof build> | undefined
let localHandler: ReturnType<typeof build> | undefined

export default {
  fetch(req, env, ctx) {
    handler ??= build(env)
    return handler(req, env, ctx)
  },
} satisfies ExportedHandler<Env>

/**
 * The same Worker as a named entrypoint, for the local runtime only: `make cf-dev`
 * (scripts/dev.mjs) serves it on its loopback socket, so that a request reaches it the way
 * production's `run_worker_first` does, without the entry and asset-router Workers Miniflare
 * puts in front of the default export (they cost more CPU per request than the gateway's own
 * code). workerd does not tell a Worker served this way the client's address: subscribers are
 * listed from `127.0.0.1`, as the socket listens on loopback only. Production never routes
 * requests from the internet to a named entrypoint.
 */
export class Gateway extends WorkerEntrypoint<Env> {
  override fetch(req: Request): Promise<Response> {
    localHandler ??= build(this.env, { clientAddress: '127.0.0.1' })
    return localHandler(req, this.env, this.ctx)
  }
}
