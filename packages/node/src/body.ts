import type { IncomingMessage } from 'node:http'
import { GatewayError, bodyTimeout } from '@sse-gateway/core'

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function tooLarge(max: number): GatewayError {
  return new GatewayError('payload_too_large', `body larger than MAX_BODY_BYTES (${max} bytes)`)
}

/**
 * Reads a publish body straight from Node's request, without turning it into a Web `Request`
 * first (that conversion cost more than the rest of a publish). Stops reading past `max` bytes:
 * the connection is then closed after the 413, since the rest of the body was never read. A body
 * that has not fully arrived `timeoutMs` after reading began is refused with 408 (and the
 * connection closed the same way).
 */
export function readIncomingText(
  req: IncomingMessage,
  max: number,
  timeoutMs?: number,
): Promise<string> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            cleanup()
            req.pause()
            reject(bodyTimeout(timeoutMs))
          }, timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        cleanup()
        req.pause()
        reject(tooLarge(max))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)
      try {
        resolve(decoder.decode(bytes))
      } catch {
        reject(new GatewayError('bad_request', 'body is not valid UTF-8 text'))
      }
    }
    const onError = (err: Error) => {
      cleanup()
      reject(new GatewayError('bad_request', `could not read the body: ${err.message}`))
    }
    const onAborted = () => onError(new Error('the client went away'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}
