import { describe, expect, it } from 'vitest'
import { GatewayError } from './errors.ts'
import { createIdGenerator } from './ids.ts'
import { decodeCursor, encodeCursor, pageOfSorted, parseLimit, toPageBody } from './pagination.ts'

describe('parseLimit', () => {
  it('defaults to 100 and clamps to 500', () => {
    expect(parseLimit(undefined)).toBe(100)
    expect(parseLimit('')).toBe(100)
    expect(parseLimit('7')).toBe(7)
    expect(parseLimit('500')).toBe(500)
    expect(parseLimit('100000')).toBe(500)
  })
  it.each(['0', '-1', 'abc', '1.5', '1e3'])('refuses %s with 400', (raw) => {
    expect(() => parseLimit(raw)).toThrow(GatewayError)
  })
})

describe('cursors', () => {
  it('round-trip any key, including topic characters and non-ASCII', () => {
    for (const key of ['a', 'tenant/a/orders', 'user:1@x', 'ü']) {
      expect(decodeCursor(encodeCursor(key))).toBe(key)
    }
  })
  it('are opaque URL-safe strings', () => {
    expect(encodeCursor('tenant/a?b')).toMatch(/^[A-Za-z0-9_-]+$/)
  })
  it.each(['!!!', 'aGVsbG8', encodeCursor('x').slice(0, 2), '%%'])('refuse malformed %s', (raw) => {
    expect(() => decodeCursor(raw)).toThrow(/invalid cursor/)
  })
})

describe('pageOfSorted', () => {
  const keys = Array.from({ length: 1234 }, (_, i) => `k${String(i).padStart(5, '0')}`)
  const get = (k: string) => ({ k })

  it('lists every key exactly once when following the cursors', () => {
    const seen: string[] = []
    let after: string | undefined
    for (let pages = 0; pages < 100; pages++) {
      const page = pageOfSorted(keys, get, after, 500)
      seen.push(...page.items.map((i) => i.k))
      const body = toPageBody(page, (i) => i.k)
      if (body.nextCursor === null) break
      after = decodeCursor(body.nextCursor)
    }
    expect(seen).toEqual(keys)
  })

  it('continues after the cursor key even when that key has gone meanwhile', () => {
    const page = pageOfSorted(['a', 'c', 'd'], get, 'b', 10)
    expect(page.items.map((i) => i.k)).toEqual(['c', 'd'])
    expect(page.more).toBe(false)
  })

  it('skips items that disappeared between listing keys and reading them', () => {
    const page = pageOfSorted(['a', 'b', 'c'], (k) => (k === 'b' ? undefined : { k }), undefined, 2)
    expect(page.items.map((i) => i.k)).toEqual(['a', 'c'])
  })
})

describe('connection ids', () => {
  it('sort in creation order', () => {
    const next = createIdGenerator()
    const ids = Array.from({ length: 5000 }, () => next())
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
