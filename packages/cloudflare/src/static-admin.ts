import { errorResponse } from '@sse-gateway/core'
import type { Hono } from 'hono'
import type { Env } from './env.ts'

/** A path whose last segment has no dot is a page of the app (a deep link), not a file. */
function isPage(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1)
  return !last.includes('.')
}

/**
 * The admin UI as Workers static assets under `/admin/` (copied from apps/admin/dist by
 * scripts/sync-admin.mjs). Deep links (`/admin/connections`) get the app's index.html, so the
 * client-side router can take over; `/admin/api/*` is left to the admin API.
 */
export function serveAdminUi(app: Hono): void {
  app.get('/admin', (c) => c.redirect('/admin/', 301))
  app.get('/admin/*', async (c, next) => {
    if (c.req.path.startsWith('/admin/api/') || c.req.path === '/admin/api') return next()
    const assets = (c.env as Env).ASSETS
    const res = await assets.fetch(c.req.raw)
    if (res.status !== 404 || !isPage(c.req.path)) return res
    const index = await assets.fetch(new URL('/admin/', c.req.url))
    if (index.ok) return index
    return errorResponse(
      'not_found',
      'the admin UI is not built: run `npm run build -w @sse-gateway/admin`, then restart (make cf-dev copies it)',
    )
  })
}
