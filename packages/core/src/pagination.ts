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
