import type { IncomingMessage } from 'node:http'

const HIGH = /[\x80-\xff]/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** `value` read as UTF-8 when its bytes are valid UTF-8, else unchanged (latin1, as Node read it). */
function asUtf8(value: string): string {
  try {
    return utf8.decode(Buffer.from(value, 'latin1'))
  } catch {
    return value
  }
}

/**
 * Node reads header bytes as latin1, so a header sent as UTF-8 (curl, most HTTP libraries) turns
 * `café` into `cafÃ©`, and an error message that quotes it comes back garbled. Workers read the
 * same bytes as UTF-8. This re-reads, in place, every header value that has a byte past ASCII and
 * is valid UTF-8; anything else stays as Node read it. Costs one regex test per header otherwise.
 * Returns whether any value changed.
 */
export function decodeUtf8Headers(req: IncomingMessage): boolean {
  const raw = req.rawHeaders
  let changed: Set<string> | undefined
  for (let i = 1; i < raw.length; i += 2) {
    const v = raw[i] as string
    if (!HIGH.test(v)) continue
    const fixed = asUtf8(v)
    if (fixed === v) continue
    raw[i] = fixed
    if (changed === undefined) changed = new Set()
    changed.add((raw[i - 1] as string).toLowerCase())
  }
  if (changed === undefined) return false
  // `req.headers` may already be built from the latin1 values: rebuild the entries that changed
  // (Node joins repeated headers with ", ").
  const headers = req.headers as Record<string, string | string[] | undefined>
  for (const name of changed) {
    const values: string[] = []
    for (let i = 0; i < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() === name) values.push(raw[i + 1] as string)
    }
    headers[name] = name === 'set-cookie' ? values : values.join(', ')
  }
  return true
}
