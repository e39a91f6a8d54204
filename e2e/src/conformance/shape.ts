/**
 * The shape of an answer, as the contract fixes it: status, the headers the contract names, the
 * JSON keys and the type of each value (never the values themselves, which differ by node and
 * moment), and for streams the fields of each frame. Shapes are plain JSON, so a run can write
 * them down and another runtime's run can be compared with them.
 */

/** A JSON value's shape: a type name (`string`, `number`, `null`, …), `[shape]`, or `{key: shape}`. */
export type Shape = string | Shape[] | { [key: string]: Shape }

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null'
  if (Array.isArray(value)) {
    const seen = new Map<string, Shape>()
    for (const v of value) {
      const s = shapeOf(v)
      seen.set(JSON.stringify(s), s)
    }
    return [...seen.values()]
  }
  if (typeof value === 'object') {
    const out: Record<string, Shape> = {}
    for (const k of Object.keys(value as object).sort()) {
      out[k] = shapeOf((value as Record<string, unknown>)[k])
    }
    return out
  }
  return typeof value
}

/** Headers of the contract; the others (date, server, transfer framing) are each runtime's own. */
const VALUE_HEADERS = [
  'content-type',
  'cache-control',
  'allow',
  'www-authenticate',
  'retry-after',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
]
/** Headers whose value differs on every answer: only their presence is part of the shape. */
const PRESENT_HEADERS = ['x-sse-connection-id']

export function headerShape(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const h of VALUE_HEADERS) {
    const v = headers.get(h)
    if (v !== null) out[h] = v.toLowerCase().replace(/\s*;\s*/g, '; ')
  }
  for (const h of PRESENT_HEADERS) if (headers.has(h)) out[h] = 'present'
  return out
}

/** One SSE frame's shape: its fields (sorted), the form of its id, its event, its data's shape. */
export interface FrameShape {
  fields: string[]
  event?: string
  /** `pub~cursor`, `~cursor` (a gateway event), `pub` (no cursor), or absent. */
  id?: string
  comment?: string
  data?: Shape
}

const CURSOR = /^1(\.[0-9a-z]+-[0-9a-z]+-[0-9a-z]+)*$/

function idForm(id: string): string {
  const at = id.indexOf('~')
  if (at === -1) return 'pub'
  const cursor = id.slice(at + 1)
  const form = CURSOR.test(cursor) ? 'cursor' : `not-a-cursor(${cursor.slice(0, 40)})`
  return at === 0 ? `~${form}` : `pub~${form}`
}

/** Splits SSE text into frames and gives each one's shape (comments are frames of their own). */
export function frameShapes(text: string): FrameShape[] {
  const out: FrameShape[] = []
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    if (block.trim() === '') continue
    const fields = new Set<string>()
    const frame: FrameShape = { fields: [] }
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        fields.add(':')
        frame.comment = line.slice(1).trim()
        continue
      }
      const i = line.indexOf(':')
      const field = i === -1 ? line : line.slice(0, i)
      const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '')
      fields.add(field)
      if (field === 'event') frame.event = value
      if (field === 'id') frame.id = idForm(value)
      if (field === 'data') data.push(value)
    }
    frame.fields = [...fields].sort()
    if (data.length > 0) {
      try {
        frame.data = shapeOf(JSON.parse(data.join('\n')))
      } catch {
        frame.data = 'text'
      }
    }
    // A heartbeat can fall anywhere in a stream: it is not part of a probe's shape.
    if (frame.comment === 'heartbeat') continue
    out.push(frame)
  }
  return out
}

/**
 * Where `observed` departs from `expected`. In `expected`, a type may be a union written
 * `string|null` (a field the contract lets be either, such as a node's URL on Cloudflare).
 */
export function shapeDiff(expected: unknown, observed: unknown, path = ''): string[] {
  if (typeof expected === 'string' && typeof observed === 'string') {
    return expected.split('|').includes(observed)
      ? []
      : [
          `${path || '.'}: ${JSON.stringify(observed)} where the contract has ${JSON.stringify(expected)}`,
        ]
  }
  if (typeof expected === 'number' || typeof expected === 'boolean') {
    return expected === observed
      ? []
      : [`${path}: ${JSON.stringify(observed)} where the contract has ${JSON.stringify(expected)}`]
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(observed) || observed.length !== expected.length) {
      return [
        `${path}: ${JSON.stringify(observed)} where the contract has ${JSON.stringify(expected)}`,
      ]
    }
    return expected.flatMap((e, i) => shapeDiff(e, observed[i], `${path}[${i}]`))
  }
  if (expected !== null && typeof expected === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) {
      return [`${path}: ${JSON.stringify(observed)} where the contract has an object`]
    }
    const e = expected as Record<string, unknown>
    const o = observed as Record<string, unknown>
    const out: string[] = []
    for (const k of Object.keys(o)) {
      if (!(k in e)) out.push(`${path}.${k}: present here, not in the contract`)
    }
    for (const k of Object.keys(e)) {
      if (!(k in o)) out.push(`${path}.${k}: in the contract, missing here`)
      else out.push(...shapeDiff(e[k], o[k], `${path}.${k}`))
    }
    return out
  }
  return expected === observed
    ? []
    : [`${path}: ${JSON.stringify(observed)} ≠ ${JSON.stringify(expected)}`]
}
