import { GatewayError } from './errors.ts'
import { quote } from './topics.ts'

export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 500

/** One page as a backend returns it: items in key order, all with keys after the cursor's. */
export interface Page<T> {
  items: T[]
  /** True when items exist past the last one returned. */
  more: boolean
  /**
   * The key to go on after when it is not the last item's: a search that scanned past the last
   * match (or found none) before it stopped.
   */
  next?: string | undefined
}

/** `?limit=`: default 100, a larger value than 500 is clamped to 500, anything not a positive integer is a 400. */
export function parseLimit(raw: string | undefined | null): number {
  if (raw == null || raw === '') return DEFAULT_LIMIT
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
    throw new GatewayError(
      'bad_request',
      `invalid limit ${quote(raw)}: expected a positive integer`,
    )
  }
  return Math.min(Number(raw), MAX_LIMIT)
}

function b64urlEncode(s: string): string {
  const bytes = new TextEncoder().encode(s)
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function b64urlDecode(s: string): string {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'))
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0))
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
}

/** Opaque cursor: the key of the last item of the previous page. */
export function encodeCursor(lastKey: string): string {
  return b64urlEncode(`v1:${lastKey}`)
}

/** Decodes `?cursor=`; a cursor not made by this gateway is a 400. */
export function decodeCursor(raw: string | undefined | null): string | undefined {
  if (raw == null || raw === '') return undefined
  let text: string
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url')
    text = b64urlDecode(raw)
  } catch {
    throw new GatewayError('bad_request', `invalid cursor ${quote(raw)}`)
  }
  if (!text.startsWith('v1:') || text.length === 3) {
    throw new GatewayError('bad_request', `invalid cursor ${quote(raw)}`)
  }
  return text.slice(3)
}

/** Builds the response body `{"items":[…],"nextCursor":…}` from a backend page. */
export function toPageBody<T>(
  page: Page<T>,
  keyOf: (item: T) => string,
): { items: T[]; nextCursor: string | null } {
  const last = page.items[page.items.length - 1]
  const key = page.next ?? (last === undefined ? undefined : keyOf(last))
  return {
    items: page.items,
    nextCursor: page.more && key !== undefined ? encodeCursor(key) : null,
  }
}

/**
 * Pages through keys held in memory, in key order: used by backends that keep their items in a
 * Map. `sortedKeys` must be sorted ascending.
 */
export function pageOfSorted<T>(
  sortedKeys: readonly string[],
  get: (key: string) => T | undefined,
  after: string | undefined,
  limit: number,
): Page<T> {
  let lo = 0
  if (after !== undefined) {
    let hi = sortedKeys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((sortedKeys[mid] as string) <= after) lo = mid + 1
      else hi = mid
    }
  }
  const items: T[] = []
  let i = lo
  for (; i < sortedKeys.length && items.length < limit; i++) {
    const item = get(sortedKeys[i] as string)
    if (item !== undefined) items.push(item)
  }
  return { items, more: i < sortedKeys.length }
}

/** Orders of the connection listing (`?sort=`): `oldest` is the id order, the default. */
export const CONNECTION_SORTS = ['oldest', 'newest', 'events'] as const
export type ConnectionSort = (typeof CONNECTION_SORTS)[number]

/** `?sort=`: absent or empty is `oldest`; anything else not listed is a 400 naming it. */
export function parseSort(raw: string | undefined | null): ConnectionSort {
  if (raw == null || raw === '') return 'oldest'
  if (!(CONNECTION_SORTS as readonly string[]).includes(raw)) {
    throw new GatewayError(
      'bad_request',
      `invalid sort ${quote(raw)}: use ${CONNECTION_SORTS.join(', ')}`,
    )
  }
  return raw as ConnectionSort
}

/**
 * How items are ordered by a sort key and a unique id: `key` gives the sort value (a number or
 * a string), `descending` puts the largest first; ties go by id, ascending. Generic so that any
 * listing (one process, the nodes of a cluster, worker processes) orders and merges the same.
 */
export interface KeyOrder<T> {
  key: (item: T) => number | string
  id: (item: T) => string
  descending: boolean
}

/** A position in a KeyOrder: the (key, id) of the last item of the previous page. */
export interface KeyPosition {
  key: number | string
  id: string
}

function cmp(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Compares two positions in the order (negative: `a` comes first). */
export function comparePositions(a: KeyPosition, b: KeyPosition, descending: boolean): number {
  const byKey = descending ? cmp(b.key, a.key) : cmp(a.key, b.key)
  return byKey || cmp(a.id, b.id)
}

/**
 * The first `limit` items after `after` in the order, out of items in any order (one node's
 * connections): the page one node answers. `more` says whether more follow.
 */
export function topAfter<T>(
  items: Iterable<T>,
  order: KeyOrder<T>,
  after: KeyPosition | undefined,
  limit: number,
): Page<T> {
  const pos = (x: T): KeyPosition => ({ key: order.key(x), id: order.id(x) })
  const rest: T[] = []
  for (const x of items) {
    if (after === undefined || comparePositions(pos(x), after, order.descending) > 0) rest.push(x)
  }
  rest.sort((a, b) => comparePositions(pos(a), pos(b), order.descending))
  return { items: rest.slice(0, limit), more: rest.length > limit }
}

/**
 * Merges pages that each hold the first items after the same position of one part of a
 * listing (a node, a worker, a shard) into the page of the whole: the first `limit` of them
 * all. More follow when any part said so or items were left over.
 */
export function mergeTop<T>(pages: readonly Page<T>[], order: KeyOrder<T>, limit: number): Page<T> {
  const all = topAfter(
    pages.flatMap((p) => p.items),
    order,
    undefined,
    limit,
  )
  return { items: all.items, more: all.more || pages.some((p) => p.more) }
}

/** Cursor key of a sorted page: `<sort>~<key>~<id>` (ids and ISO times hold no `~`). */
export function encodeSortKey(sort: ConnectionSort, p: KeyPosition): string {
  return `${sort}~${p.key}~${p.id}`
}

/** Reads a sorted cursor key back; one made for another sort, or not by us, is a 400. */
export function decodeSortKey(
  sort: ConnectionSort,
  key: string,
  numeric: boolean,
  raw: string,
): KeyPosition {
  const parts = key.split('~')
  const [s, k, id] = parts
  const bad = () =>
    new GatewayError('bad_request', `invalid cursor ${quote(raw)} for sort ${quote(sort)}`)
  if (parts.length !== 3 || s !== sort || !k || !id) throw bad()
  if (!numeric) return { key: k, id }
  if (!/^\d{1,15}$/.test(k)) throw bad()
  return { key: Number(k), id }
}
