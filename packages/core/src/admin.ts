import { type Context, Hono } from 'hono'
import { GatewayError } from './errors.ts'
import { decodeCursor, parseLimit, toPageBody } from './pagination.ts'
import type { GatewayBackend } from './ports.ts'
import { parseTopics, quote, validateEventType, validateId, validateTopic } from './topics.ts'

/**
 * The admin API (`/admin/api/*`), behind the publishers' keys. Listings are ordered by key
 * (topic name, connection id) and paged by an opaque cursor holding the last key seen, so
 * following the cursors lists every item once even while others come and go.
 */
export function createAdminApi<C extends Context>(deps: {
  backend: GatewayBackend<C>
  checkKey: (headers: Headers) => void
  /** Reads a request body as UTF-8 text, 413 past `max` bytes (the publish path's reader). */
  readBody: (c: C, max: number) => Promise<string>
  maxBodyBytes: number
}): Hono {
  const { backend, checkKey, readBody, maxBodyBytes } = deps
  const api = new Hono()

  api.use('*', async (c, next) => {
    checkKey(c.req.raw.headers)
    await next()
  })

  api.get('/topics', async (c) => {
    const limit = parseLimit(c.req.query('limit'))
    const after = decodeCursor(c.req.query('cursor'))
    const rawPrefix = c.req.query('prefix')
    const prefix = rawPrefix === undefined || rawPrefix === '' ? undefined : rawPrefix
    if (prefix !== undefined && !/^[A-Za-z0-9\-_.:@/]{1,128}$/.test(prefix)) {
      throw new GatewayError('bad_request', `invalid prefix ${quote(prefix)}: use topic characters`)
    }
    const page = await backend.listTopics({ after, limit, prefix })
    return c.json(toPageBody(page, (t) => t.topic))
  })

  api.get('/connections', async (c) => {
    const limit = parseLimit(c.req.query('limit'))
    const after = decodeCursor(c.req.query('cursor'))
    const rawTopic = c.req.query('topic')
    const topic =
      rawTopic === undefined || rawTopic === '' ? undefined : parseTopics(rawTopic, 1)[0]
    const page = await backend.listConnections({ after, limit, topic })
    return c.json(toPageBody(page, (x) => x.id))
  })

  // One route for the tail and presence: with two (`…{.+}/tail`, then `…{.+}`), Hono's router
  // gives `a/tail` to the second. A name ending in `/tail` is the tail of what precedes it.
  api.get('/topics/:topic{.+}', async (c) => {
    const raw = c.req.param('topic')
    if (raw.endsWith('/tail')) return backend.tail(c as C, validateTopic(raw.slice(0, -5)))
    // Presence: who is subscribed to one topic, in the whole deployment and per node.
    const topic = validateTopic(raw)
    const presence = await backend.presence(topic)
    if (presence === null) {
      throw new GatewayError('not_found', `topic ${quote(topic)} has no subscriber`)
    }
    return c.json(presence)
  })

  // Direct send: one event to one connection, wherever it lives.
  api.post('/connections/:id/events', async (c) => {
    const id = connectionId(c.req.param('id'))
    const eventId = validateId(c.req.header('x-sse-id') ?? null)
    const event = validateEventType(c.req.header('x-sse-event') ?? null)
    const data = await readBody(c as C, maxBodyBytes)
    const sent = await backend.sendTo(id, { id: eventId, event, data })
    if (!sent) throw new GatewayError('not_found', `no live connection ${quote(id)}`)
    return c.json({ id: eventId, connection: id }, 202)
  })

  api.delete('/connections/:id', async (c) => {
    const id = connectionId(c.req.param('id'))
    const found = await backend.disconnect(id)
    if (!found) throw new GatewayError('not_found', `no live connection ${quote(id)}`)
    return c.json({ id, disconnected: true })
  })

  api.get('/stats', async (c) => c.json(await backend.stats()))
  api.get('/nodes', async (c) => c.json({ items: await backend.nodes() }))

  return api
}

function connectionId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new GatewayError('bad_request', `invalid connection id ${quote(id)}`)
  }
  return id
}
