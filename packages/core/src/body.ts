import { GatewayError } from './errors.ts'

/**
 * Reads a request body as UTF-8 text, refusing it with 413 as soon as it passes `max` bytes
 * (a declared Content-Length over the limit is refused before any byte is read), and with 408
 * when the whole body has not arrived `timeoutMs` after reading began (BODY_TIMEOUT_MS).
 */
export async function readBodyText(req: Request, max: number, timeoutMs?: number): Promise<string> {
  const declared = req.headers.get('content-length')
  if (declared !== null && Number(declared) > max) throw tooLarge(max)
  if (req.body === null) return ''
  const reader = req.body.getReader()
  let timedOut = false
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          reader.cancel().catch(() => {})
        }, timeoutMs)
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      // A read cancelled by the timer ends (Node) or rejects (workerd): both are the timeout.
      const { done, value } = await reader.read().catch((err: unknown) => {
        if (timedOut) return { done: true as const, value: undefined }
        throw err
      })
      if (timedOut) throw bodyTimeout(timeoutMs as number)
      if (done) break
      size += value.byteLength
      if (size > max) {
        await reader.cancel().catch(() => {})
        throw tooLarge(max)
      }
      chunks.push(value)
    }
  } finally {
    clearTimeout(timer)
  }
  let bytes: Uint8Array
  if (chunks.length === 1) bytes = chunks[0] as Uint8Array
  else {
    bytes = new Uint8Array(size)
    let off = 0
    for (const c of chunks) {
      bytes.set(c, off)
      off += c.byteLength
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    throw new GatewayError('bad_request', 'body is not valid UTF-8 text')
  }
}

function tooLarge(max: number): GatewayError {
  return new GatewayError('payload_too_large', `body larger than MAX_BODY_BYTES (${max} bytes)`)
}

/** The 408 of a body that did not arrive in time (every runtime words it the same way). */
export function bodyTimeout(ms: number): GatewayError {
  return new GatewayError(
    'request_timeout',
    `body not received within BODY_TIMEOUT_MS (${ms} ms); the connection is closed`,
  )
}
