import { Waitable } from './waitable.ts'
import http from 'node:http'

/** The gateway's own event types start with this (gateway.connected, gateway.gap). */
const RESERVED = 'gateway.'

/**
 * One published event as a spec-following parser sees it, plus our `topic:` field. `id` is the
 * publisher's id: the part of the SSE `id:` before `~` (the rest is the resume cursor).
 */
export interface ParsedEvent {
  id: string | undefined
  event: string | undefined
  topic: string | undefined
  data: string
}

/**
 * A raw SSE client over node:http (one socket each, no pooling) with a parser that follows the
 * HTML spec: fields, comments, multi-line data, CRLF/CR/LF line ends.
 */
export class SseClient extends Waitable {
  protected override progress(): string {
    return `; got ${this.events.length} events`
  }

  /** Published events, in order (the gateway's own events are in `gatewayEvents`). */
  readonly events: ParsedEvent[] = []
  /** The whole SSE `id:` of each of `events` (`<publisher id>~<cursor>`). */
  readonly rawIds: Array<string | undefined> = []
  /** The gateway's own events (`gateway.*`), `id` being the whole SSE id. */
  readonly gatewayEvents: ParsedEvent[] = []
  /** What an EventSource would send back as `Last-Event-ID` now. */
  lastEventId: string | undefined
  readonly comments: string[] = []
  status = 0
  headers: http.IncomingHttpHeaders = {}
  body = ''
  ended = false
  readonly #req: http.ClientRequest
  #buf = ''
  #cur: { id?: string; event?: string; topic?: string; data: string[] } = { data: [] }

  private constructor(req: http.ClientRequest) {
    super()
    this.#req = req
  }

  /** Opens a stream; resolves once headers and, for a 200, the first comment have arrived. */
  static open(
    url: string,
    headers: Record<string, string> = {},
    timeoutMs = 10_000,
  ): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, {
        headers: { accept: 'text/event-stream', ...headers },
        agent: false,
      })
      const client = new SseClient(req)
      const timer = setTimeout(() => {
        req.destroy()
        reject(new Error(`no stream from ${url} within ${timeoutMs} ms`))
      }, timeoutMs)
      req.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      req.once('response', (res) => {
        client.status = res.statusCode ?? 0
        client.headers = res.headers
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => client.#feed(chunk))
        const end = () => {
          client.ended = true
          client.notify()
        }
        res.once('end', end)
        res.once('close', end)
        res.once('error', end)
        if (client.status !== 200) {
          res.once('end', () => {
            clearTimeout(timer)
            resolve(client)
          })
          return
        }
        client
          .until(() => client.comments.length > 0 || client.ended, timeoutMs, 'first comment')
          .then(
            () => {
              clearTimeout(timer)
              resolve(client)
            },
            (err) => {
              clearTimeout(timer)
              reject(err)
            },
          )
      })
    })
  }

  get connectionId(): string | undefined {
    return this.headers['x-sse-connection-id'] as string | undefined
  }

  #feed(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk
      return
    }
    this.#buf += chunk
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.#buf)
      if (!m) break
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (m[0] === '\r' && m.index === this.#buf.length - 1) break
      const line = this.#buf.slice(0, m.index)
      this.#buf = this.#buf.slice(m.index + m[0].length)
      this.#line(line)
    }
    this.notify()
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#cur.id !== undefined) this.lastEventId = this.#cur.id
      if (this.#cur.data.length > 0) {
        const raw = this.#cur.id
        const ev = {
          id: raw,
          event: this.#cur.event,
          topic: this.#cur.topic,
          data: this.#cur.data.join('\n'),
        }
        if (ev.event?.startsWith(RESERVED)) this.gatewayEvents.push(ev)
        else {
          const at = raw?.indexOf('~') ?? -1
          this.events.push({ ...ev, id: at === -1 ? raw : raw?.slice(0, at) })
          this.rawIds.push(raw)
        }
      }
      this.#cur = { data: [] }
      return
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim())
      return
    }
    const i = line.indexOf(':')
    const field = i === -1 ? line : line.slice(0, i)
    let value = i === -1 ? '' : line.slice(i + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.#cur.data.push(value)
    else if (field === 'id') this.#cur.id = value
    else if (field === 'event') this.#cur.event = value
    else if (field === 'topic') this.#cur.topic = value
  }

  /** Waits until at least `n` events have arrived and returns the first `n`. */
  async waitForEvents(n: number, timeoutMs = 10_000): Promise<ParsedEvent[]> {
    await this.until(() => this.events.length >= n, timeoutMs, `${n} events`)
    return this.events.slice(0, n)
  }

  /** Waits for the `n`th gateway event (`gateway.connected`, `gateway.gap`) and returns them. */
  async waitForGatewayEvents(n: number, timeoutMs = 10_000): Promise<ParsedEvent[]> {
    await this.until(() => this.gatewayEvents.length >= n, timeoutMs, `${n} gateway events`)
    return this.gatewayEvents.slice(0, n)
  }

  waitForEnd(timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.ended, timeoutMs, 'the stream to end')
  }

  close(): void {
    this.#req.destroy()
  }
}
