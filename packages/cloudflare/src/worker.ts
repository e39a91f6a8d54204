import { createGatewayApp, errorResponse } from '@sse-gateway/core'
import type { Hono } from 'hono'
import { CloudflareBackend } from './cf-backend.ts'
import type { Env } from './env.ts'
import { createLogger } from './log.ts'
import { renderMetrics } from './metrics.ts'
import { readSettings } from './settings.ts'
import { serveAdminUi } from './static-admin.ts'
import { answerBeforeBody } from './unread-body.ts'

export { Registry } from './registry.ts'
export { TopicHub } from './topic-hub.ts'

/**
 * Builds the gateway for this isolate's bindings. Bindings and vars are the same for every
 * request an isolate serves, so the app is built once; it keeps no state of its own.
 */
function build(env: Env): (req: Request, env: Env, ctx: ExecutionContext) => Promise<Response> {
  let settings: ReturnType<typeof readSettings>
  try {
    settings = readSettings(env)
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
  const backend = new CloudflareBackend(env, settings, log)
  const app: Hono = createGatewayApp({
    backend,
    config: settings,
    log,
    metrics: async () => renderMetrics(await backend.stats()),
    about: { runtime: 'cloudflare', docs: env.DOCS_URL },
    beforeRoutes: serveAdminUi,
  })
  return async (req, e, ctx) => {
    const res = await app.fetch(req, e, ctx)
    return answerBeforeBody(req, res, ctx)
  }
}

let handler: ReturnType<typeof build> | undefined

export default {
  fetch(req, env, ctx) {
    handler ??= build(env)
    return handler(req, env, ctx)
  },
} satisfies ExportedHandler<Env>
