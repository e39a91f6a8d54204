/**
 * The contract's rules, written down again from docs/api.md (not imported from the gateway), so
 * the fuzz suite can say what each generated request must get: the status a client is owed, and
 * the shape of the answer. Header values here are strings of byte-chars (one char per byte on
 * the wire, as Node's HTTP client sends them).
 */

/** Topic names and ids: 1–128 characters from `A–Z a–z 0–9 - _ . : @ /`. */
export const NAME = /^[A-Za-z0-9\-_.:@/]{1,128}$/
export const MAX_TOPICS = 64
export const MAX_BODY_BYTES = 1_048_576
export const ERROR_STATUS: Record<string, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  limit_exceeded: 429,
  unavailable: 503,
  internal: 500,
}

/** HTTP's optional whitespace around a header value or a list item: spaces and tabs only. */
function ows(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '')
}

/**
 * A header value as a server reads it: bytes that are valid UTF-8 are read as UTF-8 (what the
 * contract promises on every runtime), anything else byte for byte.
 */
export function asServerReads(byteChars: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(byteChars, 'latin1'))
  } catch {
    return byteChars
  }
}

/** The topic list a valid `x-sse-topic` names, or the reason it is refused. */
export function parseTopicList(raw: string | undefined): string[] | 'invalid' {
  if (raw === undefined) return 'invalid'
  const out: string[] = []
  for (const part of asServerReads(raw).split(',')) {
    const t = ows(part)
    if (t === '') continue
    if (!NAME.test(t)) return 'invalid'
    if (!out.includes(t)) out.push(t)
  }
  return out.length === 0 || out.length > MAX_TOPICS ? 'invalid' : out
}

export type KeyStyle = 'bearer' | 'bearer-lowercase' | 'x-api-key' | 'wrong' | 'missing'

export interface PublishInput {
  key: KeyStyle
  topics: string | undefined
  id: string | undefined
  event: string | undefined
  body: Uint8Array
  /** Other headers, harmless by the contract (names are tokens, never hop-by-hop). */
  extra: Record<string, string>
  /** Which entry point of the target gets it (a cluster has several). */
  node: number
}

export interface PublishExpectation {
  status: number
  /** For a 202: the topics, their order kept. */
  topics?: string[]
  id?: string
  event?: string
}

/**
 * What the contract owes a publish: auth first (401), then topics, id and event type (400), then,
 * only when a topic is live, the body (413 past MAX_BODY_BYTES, 400 when not UTF-8); else 202.
 */
export function expectPublish(input: PublishInput, live: ReadonlySet<string>): PublishExpectation {
  if (input.key === 'wrong' || input.key === 'missing') return { status: 401 }
  const topics = parseTopicList(input.topics)
  if (topics === 'invalid') return { status: 400 }
  const id = input.id === undefined ? '' : ows(asServerReads(input.id))
  if (!NAME.test(id)) return { status: 400 }
  const ev = input.event === undefined ? '' : ows(asServerReads(input.event))
  if (ev !== '' && (!NAME.test(ev) || ev.startsWith('gateway.'))) return { status: 400 }
  const base = { topics, id, ...(ev === '' ? {} : { event: ev }) }
  if (!topics.some((t) => live.has(t))) return { status: 202, ...base }
  if (input.body.byteLength > MAX_BODY_BYTES) return { status: 413 }
  if (decodeUtf8(input.body) === undefined) return { status: 400 }
  return { status: 202, ...base }
}

/** The body as the gateway delivers it (UTF-8, a BOM kept), or undefined when it is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/** Problems with a JSON answer's shape, by the contract (empty: well-formed). */
export function answerProblems(status: number, contentType: string | null, text: string): string[] {
  if (!contentType?.startsWith('application/json')) {
    return [`content-type ${contentType} (a JSON answer is owed)`]
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return [`body is not JSON: ${JSON.stringify(text.slice(0, 200))}`]
  }
  if (status >= 400) {
    const e = (body as { error?: { code?: unknown; message?: unknown } }).error
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string') {
      return [`error body ${text.slice(0, 200)} is not {"error":{"code","message"}}`]
    }
    if (Object.keys(body as object).length !== 1 || Object.keys(e).length !== 2) {
      return [`error body has other keys: ${text.slice(0, 200)}`]
    }
    if (ERROR_STATUS[e.code] !== status) return [`code ${e.code} with status ${status}`]
  }
  return []
}
