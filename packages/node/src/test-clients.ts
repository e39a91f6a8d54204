import http from 'node:http'
import WebSocket from 'ws'

// Small subscribers for the unit tests of the Node gateway (not shipped: only *.test.ts import
// this). They keep every frame they receive, so a test can assert "exactly once".

/** One SSE frame as a client sees it (comments left out). */
export interface SseFrame {
  event: string | undefined
  id: string | undefined
  topic: string | undefined
  data: string
}

export interface SseSubscriber {
  status: number
  /** The JSON error body of a refusal (status other than 200). */
  body: string
  frames: SseFrame[]
  /** Every byte received, for order checks (`: connected` first). */
  text: () => string
  /** The connection id from `gateway.connected`. */
  connectionId: () => string | undefined
  /** Resolves when the stream ended: true when the server ended it cleanly (last chunk). */
  ended: Promise<boolean>
  close(): void
}

function parseFrame(raw: string): SseFrame | undefined {
  const f: SseFrame = { event: undefined, id: undefined, topic: undefined, data: '' }
  const data: string[] = []
  for (const line of raw.split('\n')) {
    if (line.startsWith(':') || line === '') continue
    const i = line.indexOf(':')
    const field = i === -1 ? line : line.slice(0, i)
    const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '')
    if (field === 'data') data.push(value)
    else if (field === 'event') f.event = value
    else if (field === 'id') f.id = value
    else if (field === 'topic') f.topic = value
  }
  if (data.length === 0 && f.event === undefined) return undefined
  f.data = data.join('\n')
  return f
}

/**
 * Opens `GET path` on `url` and resolves once the stream opened (or was refused): at
 * `gateway.connected`, or at the `: connected` comment for an admin tail (`opened: 'comment'`).
 */
export function openSse(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  opened: 'identity' | 'comment' = 'identity',
): Promise<SseSubscriber> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { agent: false, headers }, (res) => {
      res.setEncoding('utf8')
      let all = ''
      let buf = ''
      const frames: SseFrame[] = []
      let endStream: (clean: boolean) => void = () => {}
      const ended = new Promise<boolean>((r) => {
        endStream = r
      })
      const sub: SseSubscriber = {
        status: res.statusCode ?? 0,
        body: '',
        frames,
        text: () => all,
        connectionId: () => {
          const f = frames.find((x) => x.event === 'gateway.connected')
          return f && (JSON.parse(f.data) as { connectionId: string }).connectionId
        },
        ended,
        close: () => req.destroy(),
      }
      res.on('end', () => endStream(res.complete))
      res.on('close', () => endStream(res.complete))
      res.on('data', (chunk: string) => {
        all += chunk
        if (sub.status !== 200) {
          sub.body = all
          return
        }
        buf += chunk
        for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
          const f = parseFrame(buf.slice(0, i))
          buf = buf.slice(i + 2)
          if (f) frames.push(f)
        }
        if (opened === 'comment' ? all.includes(': connected') : sub.connectionId()) resolve(sub)
      })
      if (sub.status !== 200) res.on('end', () => resolve(sub))
    })
    req.on('error', reject)
    setTimeout(() => reject(new Error(`no stream from ${path}`)), 5000).unref()
  })
}

export interface WsSubscriber {
  /** Every JSON frame received, gateway events included. */
  frames: Array<Record<string, unknown>>
  connectionId: () => string | undefined
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

/** Opens a WebSocket subscription and resolves once `gateway.connected` arrived. */
export function openWs(url: string, path: string): Promise<WsSubscriber> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`)
    const frames: Array<Record<string, unknown>> = []
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    )
    const sub: WsSubscriber = {
      frames,
      connectionId: () => {
        const f = frames.find((x) => x.event === 'gateway.connected')
        return f && (JSON.parse(f.data as string) as { connectionId: string }).connectionId
      },
      closed,
      close: () => ws.close(),
    }
    ws.on('message', (m) => {
      frames.push(JSON.parse(m.toString()) as Record<string, unknown>)
      if (sub.connectionId()) resolve(sub)
    })
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
    setTimeout(() => reject(new Error(`no WebSocket from ${path}`)), 5000).unref()
  })
}

/** Waits until `pred` holds (polling every 10 ms), or fails naming `what`. */
export async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
