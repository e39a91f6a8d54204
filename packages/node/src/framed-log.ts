import type { Logger } from '@sse-gateway/core'
import pino from 'pino'

/**
 * The gateway's logger: pino, except that an `info` line whose fields are flat (strings,
 * numbers, booleans, lists of strings) is framed here, the same JSON pino writes (`level`,
 * `time`, the logger's bindings, the fields in order, `msg`), and handed to pino's destination.
 * The drop path writes such a line per request (`dropped: no subscriber`), and pino's general
 * serializer cost about 0.7 µs of it; this costs a third of that. Anything else (errors, nested
 * objects, a field pino treats specially) goes to pino as it is.
 */
export function framedInfo(log: pino.Logger, dest: { write(line: string): void }): Logger {
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? ''
  const head = `{"level":${log.levels.values.info}`
  // `,"msg":"…"}\n` per message seen: the request path logs the same few messages.
  const tails = new Map<string, string>()
  const tail = (msg: string | undefined) => {
    if (msg === undefined) return '}\n'
    let t = tails.get(msg)
    if (t === undefined) {
      t = `,"msg":${JSON.stringify(msg)}}\n`
      if (tails.size < 256) tails.set(msg, t)
    }
    return t
  }
  return {
    debug: (obj, msg) => log.debug(obj, msg),
    warn: (obj, msg) => log.warn(obj, msg),
    error: (obj, msg) => log.error(obj, msg),
    info(obj, msg) {
      if (!log.isLevelEnabled('info')) return
      const fields = flat(obj)
      if (fields === undefined) log.info(obj, msg)
      else dest.write(`${head},"time":${Date.now()}${bindings}${fields}${tail(msg)}`)
    },
  }
}

/** Keys pino gives a meaning of its own (its serializers, its own fields). */
const RESERVED = new Set(['err', 'level', 'time', 'msg', 'pid', 'hostname'])
/** `,"key":` per key seen: the request path logs the same few keys over and over. */
const KEYS = new Map<string, string>()

/** `,"key":value…` for a flat object, or undefined when pino must serialize it. */
function flat(obj: object): string | undefined {
  if (Object.getPrototypeOf(obj) !== Object.prototype) return undefined
  let out = ''
  for (const key in obj) {
    const v = (obj as Record<string, unknown>)[key]
    if (v === undefined) continue
    let prefix = KEYS.get(key)
    if (prefix === undefined) {
      if (RESERVED.has(key)) return undefined
      prefix = `,${JSON.stringify(key)}:`
      if (KEYS.size < 256) KEYS.set(key, prefix)
    }
    if (!isFlat(v)) return undefined
    out += prefix + (typeof v === 'string' ? quote(v) : Array.isArray(v) ? list(v) : String(v))
  }
  return out
}

/** What JSON escapes in a string: quote, backslash, control characters, lone surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/

/**
 * `JSON.stringify` of a string. Most logged strings (topics, ids, codes) need no escape, and a
 * regex test costs less than the serializer's call into the runtime.
 */
function quote(s: string): string {
  return ESCAPED.test(s) ? JSON.stringify(s) : `"${s}"`
}

/** `JSON.stringify` of a list of strings (`isFlat` checked the items). */
function list(items: unknown[]): string {
  let out = '['
  for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + quote(items[i] as string)
  return `${out}]`
}

function isFlat(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(v)
    case 'object':
      if (!Array.isArray(v)) return false
      for (const x of v) if (typeof x !== 'string') return false
      return true
    default:
      return false
  }
}
