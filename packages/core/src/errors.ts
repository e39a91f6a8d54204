/** Every error code the gateway answers with, and its HTTP status. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'payload_too_large'
  | 'limit_exceeded'
  | 'unavailable'
  | 'internal'

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  limit_exceeded: 429,
  unavailable: 503,
  internal: 500,
}

/**
 * The one error type the gateway throws on purpose. `toResponse()` gives the contract's shape:
 * `{"error":{"code":"…","message":"…"}}`.
 *
 * @example throw new GatewayError('bad_request', 'invalid topic "a b"')
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  readonly code: ErrorCode
  readonly headers: Record<string, string> | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.headers = options?.headers
  }

  get status(): number {
    return STATUS[this.code]
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }

  toResponse(): Response {
    return errorResponse(this.code, this.message, this.headers)
  }
}

/** The contract's error response, for places that have no GatewayError at hand. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  headers?: Record<string, string>,
): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status: STATUS[code],
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  })
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code]
}
