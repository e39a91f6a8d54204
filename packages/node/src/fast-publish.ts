import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  GatewayError,
  type HeaderSource,
  type Logger,
  type PublishAnswer,
  type PublishRequest,
  corsHeaders,
} from '@sse-gateway/core'
import { readIncomingText } from './body.ts'

/**
 * Whether the whole request body is already here (read or buffered). `complete` is set a tick
 * after the bytes are parsed, so a buffered body of the declared length counts as arrived too.
 */
export function bodyArrived(req: IncomingMessage): boolean {
  if (req.complete || req.readableEnded) return true
  const declared = req.headers['content-length']
  if (declared === undefined) return req.headers['transfer-encoding'] === undefined
  return req.readableLength >= Number(declared)
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

/**
 * `POST /publish` straight from Node's request: the core's publish decision (`createPublish`)
 * without a router, a Web Request or a Response around it. Answers the same status, headers and
 * JSON as the route of the core app (the conformance suite runs against this path).
 */
export function createFastPublish(opts: {
  publish: (req: PublishRequest) => Promise<PublishAnswer>
  corsOrigins: readonly string[]
  log: Logger
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { publish, corsOrigins, log } = opts
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    type: string,
    extra?: Record<string, string>,
  ) => {
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
    // a keep-alive connection: close the connection unless it has fully arrived.
    if (!bodyArrived(req)) headers.connection = 'close'
    res.writeHead(status, headers)
    res.end(body)
  }
  return function fastPublish(req, res) {
    publish({
      headers: new IncomingHeaders(req),
      readBody: (max) => readIncomingText(req, max),
    }).then(
      (answer) => send(req, res, 202, JSON.stringify(answer), 'application/json'),
      (err: unknown) => {
        if (err instanceof GatewayError) {
          log.info(
            {
              code: err.code,
              status: err.status,
              method: 'POST',
              path: '/publish',
              error: err.message,
            },
            'request refused',
          )
          const body = JSON.stringify({ error: { code: err.code, message: err.message } })
          send(req, res, err.status, body, 'application/json; charset=utf-8', err.headers)
          return
        }
        log.error({ err, method: 'POST', path: '/publish' }, 'internal error')
        const body = JSON.stringify({ error: { code: 'internal', message: 'internal error' } })
        send(req, res, 500, body, 'application/json; charset=utf-8')
      },
    )
  }
}
