import { type Socket, connect } from 'node:net'
import type { Endpoint } from './types.ts'

const CRLF2 = Buffer.from('\r\n\r\n')
const LAST_CHUNK = Buffer.from('0\r\n\r\n')

export interface HttpReply {
  status: number
}

/**
 * A minimal HTTP/1.1 keep-alive client over one raw socket, one request at a time: the load
 * generator must cost less than what it measures, so no `fetch`, no agent, no header objects.
 * It reconnects when the server closes (`connection: close`, e.g. after an unread body).
 */
export class RawHttpConnection {
  readonly #ep: Endpoint
  readonly #localAddress: string | undefined
  #socket: Socket | undefined
  #buf: Buffer = Buffer.alloc(0)
  #pending: { resolve: (r: HttpReply) => void; reject: (e: Error) => void } | undefined

  constructor(ep: Endpoint, localAddress?: string) {
    this.#ep = ep
    this.#localAddress = localAddress
  }

  #open(): Socket {
    const s = connect({
      host: this.#ep.host,
      port: this.#ep.port,
      localAddress: this.#localAddress,
    })
    s.setNoDelay(true)
    s.on('data', (chunk: Buffer) => this.#onData(chunk))
    const fail = (err?: Error) => {
      if (this.#socket === s) this.#socket = undefined
      this.#buf = Buffer.alloc(0)
      const p = this.#pending
      this.#pending = undefined
      p?.reject(err ?? new Error('connection closed before the response'))
    }
    s.on('error', fail)
    s.on('close', () => fail())
    this.#socket = s
    return s
  }

  /** Sends one request (head without the final blank line is built by the caller). */
  request(head: string, body?: Buffer): Promise<HttpReply> {
    if (this.#pending) return Promise.reject(new Error('request already in flight'))
    const s = this.#socket ?? this.#open()
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject }
      if (body && body.length > 0) {
        s.cork()
        s.write(head)
        s.write(body)
        s.uncork()
      } else s.write(head)
    })
  }

  /** Sends only the head and `partial` bytes of a declared body; resolves on the reply head. */
  requestPartial(head: string, partial: Buffer): Promise<HttpReply> {
    return this.request(head, partial)
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    const end = this.#buf.indexOf(CRLF2)
    if (end < 0 || !this.#pending) return
    const head = this.#buf.toString('latin1', 0, end).toLowerCase()
    const status = Number(head.slice(9, 12))
    const bodyStart = end + 4
    let complete: number | undefined
    const cl = /\r\ncontent-length:\s*(\d+)/.exec(head)
    if (cl) {
      const total = bodyStart + Number(cl[1])
      if (this.#buf.length >= total) complete = total
    } else if (head.includes('transfer-encoding: chunked')) {
      const last = this.#buf.indexOf(LAST_CHUNK, bodyStart)
      if (last >= 0) complete = last + LAST_CHUNK.length
    } else complete = this.#buf.length
    // A reply to a partial body is known by its head alone: resolve at once.
    const p = this.#pending
    if (complete === undefined) {
      if (status >= 400 || head.includes('connection: close')) {
        this.#pending = undefined
        p.resolve({ status })
      }
      return
    }
    this.#buf = this.#buf.subarray(complete)
    if (this.#buf.length === 0) this.#buf = Buffer.alloc(0)
    this.#pending = undefined
    if (head.includes('\r\nconnection: close')) this.close()
    p.resolve({ status })
  }

  close(): void {
    const s = this.#socket
    this.#socket = undefined
    this.#buf = Buffer.alloc(0)
    s?.destroy()
  }
}

/** The request head of one publish to `topic`, for either API. */
export function publishHead(
  kind: 'gateway' | 'nchan',
  ep: Endpoint,
  apiKey: string,
  topic: string,
  id: string,
  contentLength: number,
): string {
  const host = `host: ${ep.host}:${ep.port}\r\n`
  const len = `content-length: ${contentLength}\r\ncontent-type: text/plain\r\n`
  if (kind === 'nchan') return `POST /pub?id=${topic} HTTP/1.1\r\n${host}${len}\r\n`
  return (
    `POST /publish HTTP/1.1\r\n${host}${len}authorization: Bearer ${apiKey}\r\n` +
    `x-sse-topic: ${topic}\r\nx-sse-id: ${id}\r\n\r\n`
  )
}

/** The request head of one subscription to `topic`: an SSE stream, or a WebSocket upgrade. */
export function subscribeHead(
  kind: 'gateway' | 'nchan',
  ep: Endpoint,
  topic: string,
  transport: 'sse' | 'ws' = 'sse',
): string {
  const host = `host: ${ep.host}:${ep.port}\r\n`
  if (transport === 'ws') {
    // The key is not checked by this client: the 101 is all it needs.
    return (
      `GET /ws?topic=${topic} HTTP/1.1\r\n${host}upgrade: websocket\r\nconnection: Upgrade\r\n` +
      'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n'
    )
  }
  const path = kind === 'nchan' ? `/sub?id=${topic}` : `/sse?topic=${topic}`
  return `GET ${path} HTTP/1.1\r\n${host}accept: text/event-stream\r\n\r\n`
}

/** One complete reply at the start of `buf`: its status, where it ends, whether the server closes. */
function completeReply(buf: Buffer): { status: number; end: number; close: boolean } | undefined {
  const headEnd = buf.indexOf(CRLF2)
  if (headEnd < 0) return undefined
  const head = buf.toString('latin1', 0, headEnd).toLowerCase()
  const bodyStart = headEnd + 4
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(head)
  let end: number
  if (cl) end = bodyStart + Number(cl[1])
  else if (head.includes('transfer-encoding: chunked')) {
    const last = buf.indexOf(LAST_CHUNK, bodyStart)
    if (last < 0) return undefined
    end = last + LAST_CHUNK.length
  } else end = bodyStart
  if (buf.length < end) return undefined
  return { status: Number(head.slice(9, 12)), end, close: head.includes('\r\nconnection: close') }
}

/**
 * An HTTP/1.1 keep-alive connection that pipelines: requests go out without waiting for the
 * replies before them, and replies are matched to requests in order (HTTP/1.1 answers pipelined
 * requests in the order they came). `send` queues one request; `flush` writes every queued one
 * in a single write. A reply that closes the connection fails the requests behind it.
 */
export class PipelinedHttpConnection {
  readonly #socket: Socket
  #buf: Buffer = Buffer.alloc(0)
  readonly #pending: { resolve: (r: HttpReply) => void; reject: (e: Error) => void }[] = []
  #out: (string | Buffer)[] = []
  #closed = false

  constructor(ep: Endpoint, localAddress?: string) {
    const s = connect({ host: ep.host, port: ep.port, localAddress })
    s.setNoDelay(true)
    s.on('data', (chunk: Buffer) => this.#onData(chunk))
    const fail = (err?: Error) => {
      this.#closed = true
      for (const p of this.#pending.splice(0)) {
        p.reject(err ?? new Error('connection closed before the response'))
      }
    }
    s.on('error', fail)
    s.on('close', () => fail())
    this.#socket = s
  }

  /** Whether the connection has closed (every request sent after that fails). */
  get closed(): boolean {
    return this.#closed
  }

  /** Queues one request (head with its blank line, then body); sent by `flush`. */
  send(head: string, body?: Buffer): Promise<HttpReply> {
    if (this.#closed) return Promise.reject(new Error('connection closed'))
    this.#out.push(head)
    if (body && body.length > 0) this.#out.push(body)
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }))
  }

  /** Writes every queued request in one write. */
  flush(): void {
    if (this.#out.length === 0 || this.#closed) return
    const bytes = Buffer.concat(this.#out.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
    this.#out = []
    this.#socket.write(bytes)
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    for (;;) {
      const r = completeReply(this.#buf)
      if (!r) return
      this.#buf = this.#buf.subarray(r.end)
      this.#pending.shift()?.resolve({ status: r.status })
      if (r.close) {
        this.close()
        return
      }
    }
  }

  close(): void {
    this.#socket.destroy()
  }
}
