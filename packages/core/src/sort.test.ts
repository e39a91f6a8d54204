import { describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.ts'
import { SORT_SCAN } from './admin.ts'
import { GatewayError } from './errors.ts'
import {
  type KeyOrder,
  type Page,
  decodeSortKey,
  encodeSortKey,
  mergeTop,
  pageOfSorted,
  parseSort,
  topAfter,
} from './pagination.ts'
import type { ConnectionInfo } from './ports.ts'
import { recordingBackend } from './test-backend.ts'

interface Row {
  id: string
  n: number
}
const busiest: KeyOrder<Row> = { key: (r) => r.n, id: (r) => r.id, descending: true }

/** Follows pages of `pageOf` from the start, as an operator following cursors would. */
function walk(pageOf: (after: Row | undefined) => Page<Row>): string[] {
  const seen: string[] = []
  let after: Row | undefined
  for (;;) {
    const page = pageOf(after)
    seen.push(...page.items.map((r) => r.id))
    after = page.items.at(-1)
    if (!page.more || !after) return seen
  }
}

describe('parseSort', () => {
  it('defaults to oldest and names a bad value', () => {
    expect(parseSort(undefined)).toBe('oldest')
    expect(parseSort('')).toBe('oldest')
    expect(parseSort('events')).toBe('events')
    expect(() => parseSort('busiest')).toThrow(/invalid sort "busiest"/)
  })
})

describe('topAfter and mergeTop', () => {
  const rows: Row[] = [
    { id: 'a', n: 3 },
    { id: 'b', n: 9 },
    { id: 'c', n: 3 },
    { id: 'd', n: 0 },
    { id: 'e', n: 9 },
  ]
  it('orders by key, ties by id, and pages after a (key, id) position', () => {
    expect(
      walk((after) => topAfter(rows, busiest, after && { key: after.n, id: after.id }, 2)),
    ).toEqual(['b', 'e', 'a', 'c', 'd'])
  })

  it('merging each part’s top after the cursor gives the same pages as one list', () => {
    const parts = [rows.slice(0, 2), rows.slice(2, 4), rows.slice(4)]
    const merged = walk((after) => {
      const pos = after && { key: after.n, id: after.id }
      return mergeTop(
        parts.map((p) => topAfter(p, busiest, pos, 2)),
        busiest,
        2,
      )
    })
    expect(merged).toEqual(['b', 'e', 'a', 'c', 'd'])
  })

  it('says more when a part has more even if the merged page is exactly full', () => {
    const page = mergeTop([{ items: [{ id: 'x', n: 1 }], more: true }], busiest, 1)
    expect(page).toEqual({ items: [{ id: 'x', n: 1 }], more: true })
  })
})

describe('sorted cursor keys', () => {
  it('round-trip and refuse another sort’s key', () => {
    const k = encodeSortKey('events', { key: 12, id: 'c_1' })
    expect(decodeSortKey('events', k, true, 'raw')).toEqual({ key: 12, id: 'c_1' })
    const t = encodeSortKey('newest', { key: '2026-01-01T00:00:00.000Z', id: 'c_2' })
    expect(decodeSortKey('newest', t, false, 'raw').key).toBe('2026-01-01T00:00:00.000Z')
    expect(() => decodeSortKey('newest', k, false, 'raw')).toThrow(GatewayError)
    expect(() => decodeSortKey('events', 'c_1', true, 'raw')).toThrow(GatewayError)
  })
})

interface Listing {
  items: ConnectionInfo[]
  nextCursor: string | null
  sortedOf?: number
  error: { message: string }
}

describe('GET /admin/api/connections?sort=', () => {
  // 1200 connections, more than one backend page of 500: c0000 oldest, busiest every 7th.
  const conns: ConnectionInfo[] = Array.from({ length: 1200 }, (_, i) => ({
    id: `c${String(i).padStart(4, '0')}`,
    transport: 'sse',
    topics: [i % 2 ? 'odd' : 'even'],
    node: 'n1',
    connectedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    remoteAddress: null,
    userAgent: null,
    eventsSent: i % 7 === 0 ? 1000 + i : i % 5,
    bytesSent: 0,
  }))
  const ids = conns.map((c) => c.id)
  const { backend } = recordingBackend()
  backend.listConnections = async (q) =>
    pageOfSorted(
      ids,
      (id) => {
        const c = conns.find((x) => x.id === id)
        return c && (q.topic === undefined || c.topics.includes(q.topic)) ? c : undefined
      },
      q.after,
      q.limit,
    )
  const app = createGatewayApp({
    backend,
    config: { apiKeys: ['k'], maxTopicsPerConnection: 4, maxBodyBytes: 16, corsOrigins: ['*'] },
  })
  const get = async (qs: string) => {
    const res = await app.fetch(
      new Request(`http://gw/admin/api/connections?${qs}`, {
        headers: { authorization: 'Bearer k' },
      }),
    )
    return { status: res.status, body: (await res.json()) as Listing }
  }
  const all = async (qs: string) => {
    const seen: ConnectionInfo[] = []
    let cursor = ''
    for (let i = 0; i < 100; i++) {
      const { body } = await get(`${qs}&limit=250${cursor && `&cursor=${cursor}`}`)
      seen.push(...body.items)
      if (!body.nextCursor) return seen
      cursor = body.nextCursor
    }
    throw new Error('cursors never ended')
  }

  it('events: busiest first across pages, each once', async () => {
    const seen = await all('sort=events')
    expect(seen.length).toBe(1200)
    expect(new Set(seen.map((c) => c.id)).size).toBe(1200)
    expect(seen[0]?.id).toBe('c1197')
    const counts = seen.map((c) => c.eventsSent)
    expect(counts).toEqual([...counts].sort((a, b) => b - a))
  })

  it('newest: the reverse of the id order; combines with a filter', async () => {
    expect((await all('sort=newest')).map((c) => c.id)).toEqual([...ids].reverse())
    const odd = await all('sort=newest&topic=odd')
    expect(odd.length).toBe(600)
    expect(odd[0]?.id).toBe('c1199')
  })

  it('a backend that sorts by itself gives the same pages', async () => {
    const generic = await all('sort=events')
    let calls = 0
    backend.listConnectionsSorted = async (q) => {
      calls++
      const matching = conns.filter((c) => q.topic === undefined || c.topics.includes(q.topic))
      return topAfter(matching, q.order, q.after, q.limit)
    }
    try {
      expect((await all('sort=events')).map((c) => c.id)).toEqual(generic.map((c) => c.id))
      expect(calls).toBe(5)
    } finally {
      delete backend.listConnectionsSorted
    }
  })

  it('says in the answer when the filter matched more than it sorts (SORT_SCAN)', async () => {
    expect((await get('sort=events&limit=5')).body.sortedOf).toBeUndefined()
    const many = Array.from({ length: SORT_SCAN + 600 }, (_, i) => ({
      ...(conns[0] as ConnectionInfo),
      id: `m${String(i).padStart(6, '0')}`,
      eventsSent: i,
    }))
    const byId = new Map(many.map((c) => [c.id, c]))
    const keep = backend.listConnections
    backend.listConnections = async (q) =>
      pageOfSorted([...byId.keys()], (id) => byId.get(id), q.after, q.limit)
    try {
      const { body } = await get('sort=events&limit=3')
      expect(body.sortedOf).toBe(SORT_SCAN)
      expect(body.items.map((c) => c.eventsSent)).toEqual([
        SORT_SCAN - 1,
        SORT_SCAN - 2,
        SORT_SCAN - 3,
      ])
    } finally {
      backend.listConnections = keep
    }
  })

  it('400 for a bad sort and for a cursor of another sort', async () => {
    const bad = await get('sort=loudest')
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('"loudest"')
    const first = await get('sort=events&limit=1')
    const cross = await get(`sort=newest&cursor=${first.body.nextCursor}`)
    expect(cross.status).toBe(400)
  })
})
