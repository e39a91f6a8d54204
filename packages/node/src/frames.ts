import { type EventEncoders, formatComment } from '@sse-gateway/core'

const CRLF = 0x0a0d // little-endian "\r\n"

/**
 * One HTTP/1.1 chunk holding `frame`: the gateway writes SSE responses with chunked transfer
 * encoding (clients built on Python's `requests` hand nothing over before they see framing).
 * The chunk header depends only on the length, so an event is framed once for every subscriber.
 */
export function chunkOf(frame: string): Buffer {
  const n = Buffer.byteLength(frame, 'utf8')
  const head = n.toString(16)
  const buf = Buffer.allocUnsafe(head.length + n + 4)
  buf.write(head, 0, 'latin1')
  buf.writeUInt16LE(CRLF, head.length)
  buf.write(frame, head.length + 2, n, 'utf8')
  buf.writeUInt16LE(CRLF, head.length + 2 + n)
  return buf
}

/** The last chunk: a clean end of the event stream. */
export const END_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')

/** `: connected`, the first bytes of every stream once its topics are registered. */
export const CONNECTED_CHUNK = chunkOf(formatComment('connected'))

/** How events are encoded on Node: Buffers (sockets take them as they are), SSE as chunks. */
export const NODE_ENCODERS: EventEncoders = {
  text: (text) => Buffer.from(text, 'utf8'),
  sse: chunkOf,
}

/** One chunk holding bytes framed elsewhere (an admin tail's frames). */
export function chunkBytes(bytes: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`${bytes.byteLength.toString(16)}\r\n`, 'latin1'),
    bytes,
    Buffer.from('\r\n', 'latin1'),
  ])
}
