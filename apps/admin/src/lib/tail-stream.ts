import { createParser } from 'eventsource-parser'
import { API_BASE, ApiError, authHeaders, errorOf } from './api'
import type { TailEntry } from './types'

export type TailStatus =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting'; retryInMs: number; reason: string }

export interface TailCallbacks {
  status(s: TailStatus): void
  entry(e: TailEntry): void
  /** The key was refused (401): the caller logs out; the stream does not retry. */
  unauthorized(err: ApiError): void
}

/** Backoff after a failed or ended stream: 0.5 s doubling to 8 s, reset once a stream opens. */
const RETRY_MS = [500, 1000, 2000, 4000, 8000]
/**
 * The gateway sends a heartbeat comment every HEARTBEAT_MS (15 s by default). A stream silent
 * for longer than this is taken for dead (a NAT or proxy dropped it without a reset) and reopened.
 */
const SILENCE_MS = 45_000

let seq = 0

function toEntry(event: string, data: string): TailEntry | undefined {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(data) as Record<string, unknown>
  } catch {
    return undefined
  }
  const topic = String(body.topic ?? '')
  const id = String(body.id ?? '')
  const time = typeof body.time === 'string' ? body.time : new Date().toISOString()
  if (event === 'drop') return { kind: 'drop', seq: ++seq, topic, id, time }
  if (event === 'gap' || event === 'replay') {
    const connectionId = String(body.connectionId ?? '')
    return {
      kind: event,
      seq: ++seq,
      topic,
      id: `${event}-${connectionId}`,
      connectionId,
      reason: typeof body.reason === 'string' ? body.reason : null,
      missed: typeof body.missed === 'number' ? body.missed : null,
      replayed: typeof body.replayed === 'number' ? body.replayed : null,
      time,
    }
  }
  if (event !== 'publish') return undefined
  return {
    kind: 'publish',
    seq: ++seq,
    topic,
    id,
    event: typeof body.event === 'string' ? body.event : null,
    data: typeof body.data === 'string' ? body.data : JSON.stringify(body.data),
    subscribers: typeof body.subscribers === 'number' ? body.subscribers : null,
    time,
  }
}

/**
 * Follows `GET /admin/api/topics/{topic}/tail` with fetch() streaming (EventSource cannot send
 * an Authorization header) and reopens it after any failure or end until `close()` is called.
 */
export function openTail(key: string, topic: string, cb: TailCallbacks): { close(): void } {
  let closed = false
  let controller: AbortController | undefined
  let wake: (() => void) | undefined

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms)
      wake = () => {
        clearTimeout(t)
        resolve()
      }
    })

  /** One stream, from fetch to its end. Returns normally when the stream ended. */
  async function once(onOpen: () => void): Promise<void> {
    controller = new AbortController()
    const ctl = controller
    let watchdog = setTimeout(() => ctl.abort(), SILENCE_MS)
    try {
      const res = await fetch(`${API_BASE}/topics/${encodeURIComponent(topic)}/tail`, {
        headers: { ...authHeaders(key), accept: 'text/event-stream' },
        signal: ctl.signal,
        cache: 'no-store',
      })
      if (!res.ok) throw await errorOf(res)
      if (!res.body) throw new ApiError(res.status, 'the tail response has no body')
      onOpen()
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      const parser = createParser({
        onEvent(msg) {
          const entry = toEntry(msg.event ?? 'message', msg.data)
          if (entry) cb.entry(entry)
        },
      })
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        // Any bytes, heartbeat comments included, prove the stream alive.
        clearTimeout(watchdog)
        watchdog = setTimeout(() => ctl.abort(), SILENCE_MS)
        parser.feed(value)
      }
    } finally {
      clearTimeout(watchdog)
    }
  }

  async function run(): Promise<void> {
    let attempt = 0
    while (!closed) {
      cb.status({ state: 'connecting' })
      let reason = 'the stream ended'
      try {
        await once(() => {
          attempt = 0
          cb.status({ state: 'live' })
        })
      } catch (err) {
        if (closed) return
        if (err instanceof ApiError && err.status === 401) return cb.unauthorized(err)
        reason =
          err instanceof ApiError
            ? err.message
            : (err as Error).name === 'AbortError'
              ? 'no heartbeat from the gateway'
              : 'cannot reach the gateway'
      }
      if (closed) return
      const retryInMs = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number
      attempt++
      cb.status({ state: 'reconnecting', retryInMs, reason })
      await sleep(retryInMs)
    }
  }

  void run()
  return {
    close() {
      closed = true
      controller?.abort()
      wake?.()
    },
  }
}
