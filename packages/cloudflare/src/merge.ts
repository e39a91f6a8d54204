import {
  type TopicHistory,
  type TopicPosition,
  coveredBy,
  encodeResumeCursor,
  parseResumeCursor,
} from '@sse-gateway/core'
import { HISTORY_PREFIX } from './wire.ts'

const LF = 10
const ID_PREFIX = [0x69, 0x64, 0x3a, 0x20] // "id: "
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The index just past the last complete SSE frame (`\n\n`) in `buf`, or 0 when there is none. */
export function frameEnd(buf: Uint8Array): number {
  for (let i = buf.length - 1; i > 0; i--) {
    if (buf[i] === LF && buf[i - 1] === LF) return i + 1
  }
  return 0
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  let size = 0
  for (const p of parts) size += p.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

function startsWithId(frame: Uint8Array): boolean {
  return ID_PREFIX.every((b, i) => frame[i] === b)
}

function endsWith(buf: Uint8Array, suffix: Uint8Array): boolean {
  if (suffix.byteLength > buf.byteLength) return false
  const at = buf.byteLength - suffix.byteLength
  for (let i = 0; i < suffix.byteLength; i++) if (buf[at + i] !== suffix[i]) return false
  return true
}

/** One topic object's stream, its history already read (see `readHistory`). */
export interface TopicSource {
  topic: string
  reader: ReadableStreamDefaultReader<Uint8Array>
  /** Bytes read after the history line. */
  rest: Uint8Array
}

/**
 * Reads the history line a topic object writes first into its part of a multi-topic
 * subscription (`HISTORY_PREFIX`); the reader stays open for the live frames that follow.
 */
export async function readHistory(body: ReadableStream<Uint8Array>): Promise<{
  history: TopicHistory
  reader: ReadableStreamDefaultReader<Uint8Array>
  rest: Uint8Array
}> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let prevLast = -1
  for (;;) {
    const { done, value } = await reader.read()
    if (done) throw new Error('the topic stream ended before its history')
    chunks.push(value)
    let end = -1
    if (prevLast === LF && value[0] === LF) end = 0
    else end = value.indexOf(LF) === -1 ? -1 : findBlank(value)
    if (end === -1) {
      prevLast = value[value.byteLength - 1] ?? prevLast
      continue
    }
    const all = concat(chunks)
    const cut = all.byteLength - value.byteLength + end + 1 // just past "\n\n"
    const line = decoder.decode(all.subarray(0, cut - 2))
    if (!line.startsWith(HISTORY_PREFIX))
      throw new Error('the topic stream did not start with its history')
    const history = JSON.parse(line.slice(HISTORY_PREFIX.length)) as TopicHistory
    return { history, reader, rest: all.slice(cut) }
  }
}

/** Index of the second LF of the first `\n\n` in `buf`, or -1. */
function findBlank(buf: Uint8Array): number {
  for (let i = 1; i < buf.byteLength; i++) if (buf[i] === LF && buf[i - 1] === LF) return i
  return -1
}

/**
 * Merges the event streams of several topic objects into one response body (a multi-topic SSE
 * subscription), after `first` (the connection's opening: `: connected`, `gateway.connected`,
 * a resume's gaps and replay).
 *
 * Each topic object writes its events with its own topic's cursor (`id: <pub>~1.<topic part>`);
 * the merge keeps where every topic stands and rewrites each event's `id:` (and, with
 * `?envelope=json`, the envelope's `cursor`) to the whole connection's cursor, so that a resume
 * covers every topic. An event at or before a topic's position is one the replay already wrote,
 * and is skipped.
 *
 * Bytes are passed on whole frames at a time, because a chunk that crossed from an object to the
 * Worker may hold half a frame, and two sources must never interleave inside one. The merged
 * stream ends when any source ends (an admin disconnect, an object reset) and cancels the others;
 * a client that leaves cancels every source. The pending reads of the sources are what keeps
 * this Worker-side stream alive: workerd cancels a stream that has nothing pending as hung.
 */
export function mergeTopicStreams(opts: {
  first: Uint8Array
  topics: readonly string[]
  sources: TopicSource[]
  positions: Map<string, TopicPosition>
  envelope: boolean
  /** The client's request signal: its abort ends the merge and cancels every source at once. */
  signal?: AbortSignal | undefined
}): ReadableStream<Uint8Array> {
  const { topics, positions, envelope } = opts
  const { readable, writable } = new IdentityTransformStream()
  const writer = writable.getWriter()
  let finished = false
  const finish = (failed: boolean) => {
    if (finished) return
    finished = true
    for (const s of opts.sources) s.reader.cancel().catch(() => {})
    if (failed) writer.abort().catch(() => {})
    else writer.close().catch(() => {})
  }
  writer.write(opts.first).catch(() => finish(true))
  writer.closed.catch(() => finish(true))
  opts.signal?.addEventListener('abort', () => finish(true), { once: true })

  /** One event frame of `topic`, its cursor widened to the connection's; null when already sent. */
  const rewrite = (frame: Uint8Array, topic: string): Uint8Array | null => {
    const nl = frame.indexOf(LF)
    const idValue = decoder.decode(frame.subarray(ID_PREFIX.length, nl))
    const tilde = idValue.indexOf('~')
    if (tilde === -1) return frame
    const parsed = parseResumeCursor(idValue)
    const pos = parsed.ok ? parsed.positions.values().next().value : undefined
    if (pos === undefined) return frame
    if (coveredBy(positions, { topic, epoch: pos.epoch, seq: pos.seq })) return null
    positions.set(topic, pos)
    const cursor = encodeResumeCursor(topics, (t) => positions.get(t))
    const parts = [encoder.encode(`id: ${idValue.slice(0, tilde)}~${cursor}\n`)]
    let rest = frame.subarray(nl + 1)
    if (envelope) {
      const old = encoder.encode(`"cursor":"${idValue.slice(tilde + 1)}"}\n\n`)
      if (endsWith(rest, old)) {
        rest = rest.subarray(0, rest.byteLength - old.byteLength)
        parts.push(rest, encoder.encode(`"cursor":"${cursor}"}\n\n`))
        return concat(parts)
      }
    }
    parts.push(rest)
    return concat(parts)
  }

  /** Whole frames of one source: comments pass as they are, events get the connection's cursor. */
  const pass = (buf: Uint8Array, topic: string): Uint8Array | null => {
    const out: Uint8Array[] = []
    let changed = false
    let start = 0
    for (let i = 1; i < buf.byteLength; i++) {
      if (buf[i] !== LF || buf[i - 1] !== LF) continue
      const frame = buf.subarray(start, i + 1)
      start = i + 1
      if (!startsWithId(frame)) {
        out.push(frame)
        continue
      }
      changed = true
      const f = rewrite(frame, topic)
      if (f !== null) out.push(f)
    }
    if (!changed) return buf
    return out.length === 0 ? null : concat(out)
  }

  const pump = async (source: TopicSource) => {
    let pending: Uint8Array | undefined = source.rest.byteLength > 0 ? source.rest : undefined
    for (;;) {
      let buf: Uint8Array
      if (pending !== undefined && frameEnd(pending) > 0) {
        buf = pending
      } else {
        const { done, value } = await source.reader.read()
        if (done || finished) return
        buf = pending ? concat([pending, value]) : value
      }
      const cut = frameEnd(buf)
      pending = cut < buf.byteLength ? buf.slice(cut) : undefined
      if (cut === 0) continue
      const out = pass(buf.subarray(0, cut), source.topic)
      // Awaiting the write passes a slow client's backpressure on to the topic object.
      if (out !== null) await writer.write(out)
    }
  }
  for (const s of opts.sources) {
    pump(s).then(
      () => finish(false),
      () => finish(true),
    )
  }
  return readable
}
