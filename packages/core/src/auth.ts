import { GatewayError } from './errors.ts'

/**
 * Compares two strings in time that depends only on their lengths, never on their content
 * (UTF-16 code units; no allocation, so the check costs the publish path next to nothing).
 */
function safeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length
  const n = Math.max(a.length, b.length)
  const la = a.length || 1
  const lb = b.length || 1
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i % la) || 0) ^ (b.charCodeAt(i % lb) || 0)
  return diff === 0
}

/** Takes the key from `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: { get(name: string): string | null }): string | undefined {
  const auth = headers.get('authorization')
  if (auth) {
    // The common spelling, `Bearer <key>`, without a regex match (every publish checks it).
    if (auth.startsWith('Bearer ') && auth.length > 7 && !/\s/.test(auth.slice(7))) {
      return auth.slice(7)
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    if (m) return m[1]
  }
  const key = headers.get('x-api-key')
  return key ? key.trim() : undefined
}

/**
 * Builds the key check for publishers and the admin API. Every configured key is compared, in
 * constant time, on every call, so timing reveals neither which key nor how much of it matched.
 * Keys never appear in errors or logs.
 */
export function createKeyCheck(
  keys: readonly string[],
): (headers: { get(name: string): string | null }) => void {
  if (keys.length === 0) throw new Error('createKeyCheck needs at least one key')
  return function checkKey(headers: { get(name: string): string | null }): void {
    const key = presentedKey(headers)
    if (key === undefined) {
      throw new GatewayError(
        'unauthorized',
        'missing API key: send Authorization: Bearer <key> or x-api-key',
        { headers: { 'www-authenticate': 'Bearer realm="sse-gateway"' } },
      )
    }
    let ok = false
    for (const k of keys) ok = safeEqual(key, k) || ok
    if (!ok) {
      throw new GatewayError('unauthorized', 'invalid API key', {
        headers: { 'www-authenticate': 'Bearer realm="sse-gateway", error="invalid_token"' },
      })
    }
  }
}
