import { type Context, Hono } from 'hono'
import { GatewayError } from './errors.ts'
import {
  type ConnectionSort,
  decodeCursor,
  decodeSortKey,
  encodeCursor,
  encodeSortKey,
  type KeyOrder,
  type Page,
  parseLimit,
  parseSort,
  toPageBody,
  topAfter,
} from './pagination.ts'
import type { ConnectionInfo, ConnectionQuery, ConnectionSearch, GatewayBackend } from './ports.ts'
import { hasSearch } from './ports.ts'
import { parseTopics, quote, validateEventType, validateId, validateTopic } from './topics.ts'
import { GATEWAY_VERSION } from './version.ts'

/** What the admin console shows in its header (`GET /admin/api/info`). */
export interface GatewayAbout {
  /** `node` (one process, memory namespace), `cluster` (Node with Redis) or `cloudflare`. */
  runtime: 'node' | 'cluster' | 'cloudflare'
  /** Where the operator's docs are (DOCS_URL); the console's header links to it. */
  docs?: string | undefined
}
const CONN_ID = /^[A-Za-z0-9_-]{1,64}$/
const TOPIC_PREFIX = /^[A-Za-z0-9\-_.:@/]{1,128}$/

/** Connections disconnected at once by a bulk disconnect (each one a call to its node). */
const BULK_BATCH = 50

/** Connections a sorted listing looks at, at most (pages of 500 of the id order). */
export const SORT_SCAN = 20_000

/** The orders of `?sort=` other than the id order. */
export const CONNECTION_ORDERS: Record<
  Exclude<ConnectionSort, 'oldest'>,
  KeyOrder<ConnectionInfo>
> = {
  newest: { key: (c) => c.connectedAt, id: (c) => c.id, descending: true },
  events: { key: (c) => c.eventsSent, id: (c) => c.id, descending: true },
}

/**
 * One page of a sorted listing (`?sort=newest|events`): the connections of the filter, read in
 * id order (up to SORT_SCAN), ordered, and cut after the cursor's (key, id) as of the last page.
 */
async function sortedPage<C extends Context>(
  backend: GatewayBackend<C>,
  q: ConnectionQuery,
  sort: Exclude<ConnectionSort, 'oldest'>,
  rawCursor: string | undefined,
): Promise<{ items: ConnectionInfo[]; nextCursor: string | null; sortedOf?: number }> {
  const order = CONNECTION_ORDERS[sort]
  const key = decodeCursor(rawCursor)
  const after =
    key === undefined ? undefined : decodeSortKey(sort, key, sort === 'events', rawCursor ?? '')
  if (backend.listConnectionsSorted) {
    const { topic, search, limit } = q
    const page = await backend.listConnectionsSorted({ topic, search, limit, order, after })
    return toSortedBody(page, sort, order)
  }
  const all: ConnectionInfo[] = []
  let from: string | undefined
  let cut = false
  for (;;) {
    const page = await backend.listConnections({ ...q, after: from, limit: 500 })
    all.push(...page.items)
    const next = page.next ?? page.items.at(-1)?.id
    if (!page.more || next === undefined) break
    if (all.length >= SORT_SCAN) {
      cut = true
      break
    }
    from = next
  }
  const body = toSortedBody(topAfter(all, order, after, q.limit), sort, order)
  // Said in the answer, not only in the docs: past SORT_SCAN matches the order is not the whole's.
  return cut ? { ...body, sortedOf: all.length } : body
}

function toSortedBody(
  page: Page<ConnectionInfo>,
  sort: ConnectionSort,
  order: KeyOrder<ConnectionInfo>,
): { items: ConnectionInfo[]; nextCursor: string | null } {
  const last = page.items.at(-1)
  return {
    items: page.items,
    nextCursor:
      page.more && last
        ? encodeCursor(encodeSortKey(sort, { key: order.key(last), id: last.id }))
        : null,
  }
}

/** `?id=&topicPrefix=&address=&userAgent=` of a connection listing or bulk disconnect. */
function searchOf(query: (name: string) => string | undefined): ConnectionSearch | undefined {
  const field = (name: string, max: number) => {
    const v = query(name)
    if (v === undefined || v === '') return undefined
    if (v.length > max) throw new GatewayError('bad_request', `${name} is longer than ${max}`)
    return v
  }
  const s: ConnectionSearch = {
    id: field('id', 64),
    topicPrefix: field('topicPrefix', 128),
    address: field('address', 128),
    userAgent: field('userAgent', 256),
  }
  if (s.topicPrefix !== undefined && !TOPIC_PREFIX.test(s.topicPrefix)) {
    throw new GatewayError(
      'bad_request',
      `invalid topicPrefix ${quote(s.topicPrefix)}: use topic characters`,
    )
  }
  return hasSearch(s) ? s : undefined
}

function topicOf(raw: string | undefined): string | undefined {
  return raw === undefined || raw === '' ? undefined : parseTopics(raw, 1)[0]
}

/**
 * The admin API (`/admin/api/*`), behind the publishers' keys. Listings are ordered by key
 * (topic name, connection id) and paged by an opaque cursor holding the last key seen, so
 * following the cursors lists every item once even while others come and go. A sorted
 * connection listing (`?sort=newest|events`) pages by (time or count, id) instead: see
 * sortedPage.
 */
export function createAdminApi<C extends Context>(deps: {
  backend: GatewayBackend<C>
  checkKey: (headers: Headers) => void
  /** Reads a request body as UTF-8 text, 413 past `max` bytes (the publish path's reader). */
  readBody: (c: C, max: number) => Promise<string>
  maxBodyBytes: number
  about?: GatewayAbout | undefined
}): Hono {
  const { backend, checkKey, readBody, maxBodyBytes, about } = deps
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
    const sort = parseSort(c.req.query('sort'))
    const topic = topicOf(c.req.query('topic'))
    const search = searchOf((n) => c.req.query(n))
    if (sort !== 'oldest') {
      const q = { after: undefined, limit, topic, search }
      return c.json(await sortedPage(backend, q, sort, c.req.query('cursor')))
    }
    const after = decodeCursor(c.req.query('cursor'))
    const page = await backend.listConnections({ after, limit, topic, search })
    return c.json(toPageBody(page, (x) => x.id))
  })

  // Bulk disconnect: every connection the same filter lists. Without any filter it takes
  // `?all=true`, so an empty form never ends every stream by accident.
  api.delete('/connections', async (c) => {
    const topic = topicOf(c.req.query('topic'))
    const search = searchOf((n) => c.req.query(n))
    if (topic === undefined && search === undefined && c.req.query('all') !== 'true') {
      throw new GatewayError(
        'bad_request',
        'give a filter (topic, id, topicPrefix, address, userAgent) or all=true to disconnect every connection',
      )
    }
    // The ids first, then the disconnects: the listing changes as connections go.
    const ids: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await backend.listConnections({ after, limit: 500, topic, search })
      for (const x of page.items) ids.push(x.id)
      const next = page.next ?? page.items.at(-1)?.id
      if (!page.more || next === undefined) break
      after = next
    }
    let disconnected = 0
    for (let i = 0; i < ids.length; i += BULK_BATCH) {
      const done = await Promise.all(
        ids.slice(i, i + BULK_BATCH).map((id) => backend.disconnect(id)),
      )
      disconnected += done.filter(Boolean).length
    }
    return c.json({ matched: ids.length, disconnected })
  })

  api.get('/info', async (c) => {
    const nodes = await backend.nodes()
    const self = nodes.find((n) => n.id === backend.nodeId) ?? nodes[0]
    return c.json({
      version: GATEWAY_VERSION,
      runtime: about?.runtime ?? 'node',
      node: backend.nodeId,
      startedAt: self?.startedAt ?? null,
      docs: about?.docs || null,
    })
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
  if (!CONN_ID.test(id)) {
    throw new GatewayError('bad_request', `invalid connection id ${quote(id)}`)
  }
  return id
}
