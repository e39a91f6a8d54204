import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import {
  type Config,
  GatewayError,
  type Grant,
  type HeaderSource,
  type Logger,
  type PublishAnswer,
  type PublishRequest,
  type TokenSource,
  corsHeaders,
  parseSubscription,
  publishAnswerJson,
} from '@sse-gateway/core'
import { readIncomingText } from './body.ts'
import { writeAccepted } from './framed-reply.ts'
import type { NodeBackend } from './node-backend.ts'
import { decodeUtf8Headers } from './utf8-headers.ts'

// The contract's two busiest routes, served straight from Node's request: `POST /publish` and
// `GET /sse` skip the router and the Web Request/Response objects (each a few microseconds and
// a few hundred bytes a request). Every other route goes through the core app.

/**
 * Whether the whole request body is already here (read or buffered). `complete` is set a tick
 * after the bytes are parsed, so a buffered body of the declared length counts as arrived too.
 */
function bodyArrived(req: IncomingMessage): boolean {
  if (req.complete || req.readableEnded) return true
  const declared = req.headers['content-length']
  if (declared === undefined) return req.headers['transfer-encoding'] === undefined
  return req.readableLength >= Number(declared)
}

/**
 * The most a request may declare and leave unread for its connection to stay open after the
 * answer: Node reads what is left of such a body and throws it away (as a bare `node:http`
 * server does), which costs less than a new connection. One socket read is 64 KiB.
 */
export const DISCARD_MAX_BYTES = 65_536

/**
 * Whether the connection can stay open after an answer written now: the body has arrived, or
 * nobody began reading it and it declares a length Node may read and throw away
 * (`DISCARD_MAX_BYTES`). A larger body, a chunked one, or one whose reading stopped part way (a
 * `408`, a `413`) closes the connection after the answer, so its bytes are never parsed as a next
 * request and never read for nothing.
 */
export function keepsConnection(req: IncomingMessage): boolean {
  const declared = req.headers['content-length']
  if (
    declared !== undefined &&
    req.readableFlowing === null &&
    // Up to 4 digits is at most 9,999 bytes: no number to parse on the common path.
    (declared.length <= 4 || Number(declared) <= DISCARD_MAX_BYTES)
  ) {
    return true
  }
  return bodyArrived(req)
}

/** `POST /publish` (with or without a query string), the one route the fast path takes. */
export function isPublish(req: IncomingMessage): boolean {
  const url = req.url
  return (
    req.method === 'POST' &&
    url !== undefined &&
    url.startsWith('/publish') &&
    (url.length === 8 || url.charCodeAt(8) === 63) // '?'
  )
}

/** `GET /sse` (with or without a query string), not a WebSocket upgrade. */
export function isSubscribe(req: IncomingMessage): boolean {
  const url = req.url
  return (
    req.method === 'GET' &&
    url !== undefined &&
    url.startsWith('/sse') &&
    (url.length === 4 || url.charCodeAt(4) === 63) // '?'
  )
}

/** Node's parsed headers seen as the core's HeaderSource (names are lower-case already). */
class IncomingHeaders implements HeaderSource {
  readonly #req: IncomingMessage
  constructor(req: IncomingMessage) {
    this.#req = req
  }
  get(name: string): string | null {
    const v = this.#req.headers[name]
    if (v === undefined) return null
    return typeof v === 'string' ? v : v.join(', ')
  }
}

/** What the core's publish decision reads of a native request: one object per publish. */
class NativePublish extends IncomingHeaders implements PublishRequest {
  readonly #req: IncomingMessage
  readonly #bodyTimeoutMs: number
  constructor(req: IncomingMessage, bodyTimeoutMs: number) {
    super(req)
    this.#req = req
    this.#bodyTimeoutMs = bodyTimeoutMs
  }
  get headers(): HeaderSource {
    return this
  }
  readBody(max: number): Promise<string> {
    return readIncomingText(this.#req, max, this.#bodyTimeoutMs)
  }
}

/** Writes a whole JSON answer; closes the connection when the request body was left unread. */
function send(
  req: IncomingMessage,
  res: ServerResponse,
  corsOrigins: readonly string[],
  status: number,
  body: string,
  type: string,
  extra?: Record<string, string>,
): void {
  const headers: Record<string, string | number> = {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...extra,
  }
  const origin = req.headers.origin
  if (corsOrigins.length > 0 && origin !== undefined) {
    Object.assign(headers, corsHeaders(corsOrigins, origin))
  }
  // A body left unread (the drop path, a refusal) must not be taken for the next request on
  // a keep-alive connection: close the connection unless Node may read it and throw it away.
  const unread = !keepsConnection(req)
  if (unread) {
    headers.connection = 'close'
    lingerOnClose(req.socket as Socket)
  }
  res.writeHead(status, headers)
  res.end(body)
}

/**
 * The publish's `202`, framed here in one write (`framed-reply.ts`), or by Node's `writeHead`
 * where that declines. A large body left unread closes the connection either way.
 */
function sendAccepted(
  req: IncomingMessage,
  res: ServerResponse,
  corsOrigins: readonly string[],
  body: string,
): void {
  const origin = req.headers.origin
  const cors =
    corsOrigins.length > 0 && origin !== undefined ? corsHeaders(corsOrigins, origin) : undefined
  const unread = !keepsConnection(req)
  if (unread) lingerOnClose(req.socket as Socket)
  if (!writeAccepted(res, body, unread, cors)) {
    send(req, res, corsOrigins, 202, body, 'application/json')
  }
}

/**
 * Closes a connection whose request body is still arriving the way HTTP servers must (a
 * "lingering close"): the answer and our end of the stream go out, the rest of the body is read
 * and thrown away until the client stops sending (at most 2 s), then the socket is closed. Closing
 * at once would make the kernel answer the client's next bytes with a reset, which can discard
 * the answer before the client reads it.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingering(this: Socket): void {
    const timer = setTimeout(() => this.destroy(), 2_000)
    timer.unref()
    this.once('close', () => clearTimeout(timer))
    this.once('end', () => this.destroy())
    this.end()
    this.resume()
  }
}

/** The contract's error answer for what a native route threw (logged once, as the core app does). */
function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  corsOrigins: readonly string[],
  log: Logger,
  err: unknown,
): void {
  const path = req.url?.split('?')[0]
  if (err instanceof GatewayError) {
    log.info(
      { code: err.code, status: err.status, method: req.method, path, error: err.message },
      'request refused',
    )
    const body = JSON.stringify({ error: { code: err.code, message: err.message } })
    send(req, res, corsOrigins, err.status, body, 'application/json; charset=utf-8', err.headers)
    return
  }
  log.error({ err, method: req.method, path }, 'internal error')
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ error: { code: 'internal', message: 'internal error' } })
  send(req, res, corsOrigins, 500, body, 'application/json; charset=utf-8')
}

/**
 * `POST /publish` straight from Node's request: the core's publish decision (`createPublish`)
 * without a router, a Web Request or a Response around it. Answers the same status, headers and
 * JSON as the route of the core app (the conformance suite runs against this path).
 */
export function createFastPublish(opts: {
  publish: (req: PublishRequest) => PublishAnswer | Promise<PublishAnswer>
  corsOrigins: readonly string[]
  /** BODY_TIMEOUT_MS: a body still arriving after this long is refused with 408. */
  bodyTimeoutMs: number
  log: Logger
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { publish, corsOrigins, bodyTimeoutMs, log } = opts
  // A drop decided from the headers is answered here, before Node parses the body behind them:
  // whether the connection stays open depends on the declared length (`keepsConnection`), not on
  // what has arrived, so nothing waits for the rest of the read. A publish behind another on a
  // pipelined connection waits its turn in Node's queue of responses.
  /**
   * The publish path reads headers as Node parsed them (latin1): every value a publish accepts
   * is ASCII, so only a refusal can tell. Where some header was sent as UTF-8, it is read again
   * as such (`decodeUtf8Headers`) and the decision taken again: a refusal then quotes the value
   * as sent, and a key with non-ASCII characters compares as configured. Taking it again is
   * safe: the decision throws only from its checks, before it looks up, logs or counts anything.
   */
  const decide = (req: IncomingMessage): PublishAnswer | Promise<PublishAnswer> => {
    try {
      return publish(new NativePublish(req, bodyTimeoutMs))
    } catch (err) {
      if (!decodeUtf8Headers(req)) throw err
      return publish(new NativePublish(req, bodyTimeoutMs))
    }
  }
  return function fastPublish(req, res) {
    let answer: PublishAnswer | Promise<PublishAnswer>
    try {
      answer = decide(req)
    } catch (err) {
      sendError(req, res, corsOrigins, log, err)
      return
    }
    if (answer instanceof Promise) {
      answer.then(
        (a) => sendAccepted(req, res, corsOrigins, publishAnswerJson(a)),
        (err: unknown) => sendError(req, res, corsOrigins, log, err),
      )
    } else sendAccepted(req, res, corsOrigins, publishAnswerJson(answer))
  }
}

/**
 * `GET /sse` straight from Node's request: the core's subscription rules (`parseSubscription`)
 * and private-topic guard (the same `createSubscribeGuard` as the core app's route), then the
 * backend opens the stream on the native response.
 */
export function createNativeSubscribe(opts: {
  backend: NodeBackend
  config: Pick<Config, 'corsOrigins' | 'maxTopicsPerConnection'>
  newConnectionId: () => string
  /** Private topics' check (undefined when PRIVATE_TOPICS is unset: nothing is checked). */
  guard?: ((topics: string[], src: TokenSource) => Promise<Grant>) | undefined
  log: Logger
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { backend, config, newConnectionId, guard, log } = opts
  return function nativeSubscribe(req, res) {
    const url = req.url as string
    const query = url.length > 5 ? new URLSearchParams(url.slice(5)) : undefined
    const headers = new IncomingHeaders(req)
    let opened: Promise<unknown>
    try {
      const ask = parseSubscription(
        (n) => headers.get(n),
        (n) => query?.get(n),
        config.maxTopicsPerConnection,
      )
      const open = (grant: Grant | undefined) =>
        backend.open(
          { incoming: req, outgoing: res, origin: req.headers.origin },
          {
            connectionId: newConnectionId(),
            transport: 'sse',
            ...ask,
            remoteAddress: undefined,
            userAgent: req.headers['user-agent'],
            expiresAt: grant?.expiresAt,
            privateTopics: grant?.privateTopics,
          },
        )
      opened = guard
        ? guard(ask.topics, { header: (n) => headers.get(n), query: (n) => query?.get(n) }).then(
            open,
          )
        : open(undefined)
    } catch (err) {
      sendError(req, res, config.corsOrigins, log, err)
      return
    }
    opened.catch((err: unknown) => sendError(req, res, config.corsOrigins, log, err))
  }
}
