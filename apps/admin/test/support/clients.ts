/** Real HTTP clients of the gateway: SSE subscribers and a curl-like publisher. */

export interface Subscriber {
  id: string
  topics: string
  /** Resolves when the gateway ends the stream (disconnect, shutdown). */
  ended: Promise<void>
  hasEnded(): boolean
  close(): void
}

/** Opens `GET /sse?topic=…` and keeps reading it, as a real subscriber would. */
export async function subscribe(
  base: string,
  topics: string,
  userAgent = 'admin-ui-test/1.0 (node fetch)',
): Promise<Subscriber> {
  const ctl = new AbortController()
  const res = await fetch(`${base}/sse?topic=${encodeURIComponent(topics)}`, {
    headers: { accept: 'text/event-stream', 'user-agent': userAgent },
    signal: ctl.signal,
  })
  if (res.status !== 200 || !res.body) throw new Error(`subscribe ${topics}: HTTP ${res.status}`)
  const id = res.headers.get('x-sse-connection-id')
  if (!id) throw new Error('no x-sse-connection-id header')
  const reader = res.body.getReader()
  // The stream is open once its first comment (`: connected`) arrives.
  await reader.read()
  let ended = false
  const endedP = (async () => {
    try {
      for (;;) if ((await reader.read()).done) break
    } catch {
      // aborted by close(), or reset by the gateway: either way the stream is over
    }
    ended = true
  })()
  return { id, topics, ended: endedP, hasEnded: () => ended, close: () => ctl.abort() }
}

/** `curl -X POST $URL/publish -H 'x-sse-topic: …' -H 'x-sse-id: …' -d body`, in fetch. */
export async function publish(
  base: string,
  key: string,
  ev: { topic: string; id: string; event?: string; data: string },
): Promise<{ delivered: string[]; dropped: string[] }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'x-sse-topic': ev.topic,
    'x-sse-id': ev.id,
  }
  if (ev.event) headers['x-sse-event'] = ev.event
  const res = await fetch(`${base}/publish`, { method: 'POST', headers, body: ev.data })
  if (res.status !== 202) throw new Error(`publish: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as { delivered: string[]; dropped: string[] }
}

/** Rejects after `ms` with a message saying what did not happen. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(t))
}
