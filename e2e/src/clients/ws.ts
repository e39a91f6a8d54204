import { Waitable } from './waitable.ts'
import WebSocket from 'ws'

export interface WsEvent {
  /** The topic; `*` for a broadcast, null for a direct send. */
  topic: string | null
  id: string
  event: string | null
  data: string
}

/** A frame as the gateway sends it: published events carry their resume cursor. */
interface WsFrame extends WsEvent {
  cursor: string | null
}

/** A WebSocket subscriber that collects the gateway's JSON frames. */
export class WsClient extends Waitable {
  protected override progress(): string {
    return `; got ${this.events.length} events`
  }

  /** Published events, in order, without their cursor (it is in `cursors`). */
  readonly events: WsEvent[] = []
  readonly cursors: Array<string | null> = []
  /** The gateway's own frames (`topic` null, `event` gateway.*). */
  readonly gatewayEvents: WsFrame[] = []
  readonly ws: WebSocket
  connectionId: string | undefined
  closed = false
  closeCode: number | undefined

  private constructor(ws: WebSocket) {
    super()
    this.ws = ws
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as WsFrame
      // Direct sends have no topic either: the gateway's own frames are told by their type.
      if (frame.topic === null && frame.event?.startsWith('gateway.'))
        this.gatewayEvents.push(frame)
      else {
        const { cursor, ...ev } = frame
        this.events.push(ev)
        this.cursors.push(cursor)
      }
      this.notify()
    })
    ws.on('close', (code) => {
      this.closed = true
      this.closeCode = code
      this.notify()
    })
  }

  static open(url: string, timeoutMs = 10_000): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      // After a close handshake the server should end the TCP connection; workerd does not for
      // hibernatable sockets, and browsers then close it themselves (Chromium: after ~2 s).
      // `ws` would wait 30 s: do as browsers do (`closeTimeout` of ws 8.23, not yet in @types/ws).
      const options: WebSocket.ClientOptions & { closeTimeout: number } = { closeTimeout: 2_000 }
      const ws = new WebSocket(url, options)
      const client = new WsClient(ws)
      const timer = setTimeout(() => {
        ws.terminate()
        reject(new Error(`no WebSocket from ${url} within ${timeoutMs} ms`))
      }, timeoutMs)
      ws.once('upgrade', (res) => {
        client.connectionId = res.headers['x-sse-connection-id'] as string | undefined
      })
      ws.once('open', () => {
        clearTimeout(timer)
        resolve(client)
      })
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer)
        let body = ''
        res.on('data', (c: Buffer) => {
          body += c.toString()
        })
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)))
      })
      ws.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  async waitForEvents(n: number, timeoutMs = 10_000): Promise<WsEvent[]> {
    await this.until(() => this.events.length >= n, timeoutMs, `${n} WebSocket events`)
    return this.events.slice(0, n)
  }

  /** The cursor to resume after the last frame (`?lastEventId=`). */
  get lastCursor(): string | undefined {
    for (let i = this.cursors.length - 1; i >= 0; i--)
      if (this.cursors[i]) return this.cursors[i] ?? undefined
    const connected = this.gatewayEvents.find((f) => f.event === 'gateway.connected')
    return connected?.cursor ?? undefined
  }

  async waitForGatewayEvents(n: number, timeoutMs = 10_000): Promise<WsFrame[]> {
    await this.until(() => this.gatewayEvents.length >= n, timeoutMs, `${n} gateway frames`)
    return this.gatewayEvents.slice(0, n)
  }

  close(): void {
    this.ws.terminate()
  }
}
