import type { IncomingMessage, ServerOptions } from 'node:http'
import type { Socket } from 'node:net'
import { type Logger, type Timeouts, errorResponse } from '@sse-gateway/core'
import { writeRaw } from './raw-response.ts'

/**
 * Node's own timers for the stages it sees: the headers (HEADERS_TIMEOUT_MS, which also closes a
 * new connection that sends nothing), the whole request as a backstop, and idle keep-alive
 * (KEEPALIVE_TIMEOUT_MS). The body timer itself lives in the body reader (BODY_TIMEOUT_MS), so a
 * stalled publish gets the contract's JSON `408` rather than Node's bare one.
 */
export function timeoutOptions(t: Timeouts): ServerOptions {
  return {
    headersTimeout: t.headersMs,
    requestTimeout: t.headersMs + t.bodyMs,
    keepAliveTimeout: t.keepAliveMs,
    // Node checks the two request timers on this tick (30 s by default, which would stretch a
    // 10 s limit to 40 s). Only requests still being received are checked, never open streams.
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(t.headersMs / 4))),
  }
}

/** The parts of a socket Node sets while a response is in flight (not in its public types). */
interface HttpSocket extends Socket {
  _httpMessage?: { headersSent?: boolean } | null
}

/**
 * Answers a request Node could not finish reading (`clientError`): too slow (`408`), malformed
 * or too large (`400`), always in the contract's JSON shape, then closes the socket. Nothing is
 * written once a response has begun on that socket (an open stream must not be corrupted).
 */
export function answerClientError(
  err: Error & { code?: string },
  socket: Socket,
  t: Timeouts,
  log: Logger,
): void {
  log.debug({ err: String(err), code: err.code }, 'client error')
  const s = socket as HttpSocket
  // Only a request Node gave up on gets an answer: a socket error (reset, broken pipe) or a
  // socket whose stream has begun (or been handed over to us) is closed without a word.
  const answerable = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_')
  if (!answerable || !s.writable || s._httpMessage?.headersSent) {
    s.destroy()
    return
  }
  let res: Response
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    res = errorResponse(
      'request_timeout',
      `request not received in time (HEADERS_TIMEOUT_MS=${t.headersMs}, BODY_TIMEOUT_MS=${t.bodyMs}); the connection is closed`,
    )
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    res = errorResponse('bad_request', 'request headers too large (at most 16 KiB in all)')
  } else {
    res = errorResponse('bad_request', `malformed HTTP request (${err.code ?? 'parse error'})`)
  }
  void writeRaw(s, res)
}

/**
 * Bounds the gateway's side of a WebSocket handshake (WS_HANDSHAKE_TIMEOUT_MS): from the upgrade
 * request, whose headers HEADERS_TIMEOUT_MS already bounds, to the `101` or a refusal. Past it the
 * client gets `408` and the socket is closed. `done()` once the socket is answered.
 */
export function handshakeGuard(
  req: IncomingMessage,
  socket: Socket,
  t: Timeouts,
  log: Logger,
): { done(): void } {
  const timer = setTimeout(() => {
    // The path only: a query string may carry a subscriber token (?token=), never logged.
    log.warn({ path: req.url?.split('?')[0], ms: t.wsHandshakeMs }, 'WebSocket handshake timed out')
    if (socket.destroyed) return
    const res = errorResponse(
      'request_timeout',
      `WebSocket handshake not completed within WS_HANDSHAKE_TIMEOUT_MS (${t.wsHandshakeMs} ms)`,
    )
    void writeRaw(socket, res)
  }, t.wsHandshakeMs)
  return { done: () => clearTimeout(timer) }
}
