import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'

/**
 * Writes a Response as raw HTTP/1.1 to a socket no ServerResponse owns (an `upgrade` socket, or
 * one Node gave up parsing), with `connection: close`. Resolves once the bytes are handed to the
 * kernel; the socket is then closed (destroying it no longer loses what was written).
 */
export async function writeRaw(socket: Socket, res: Response): Promise<void> {
  const body = Buffer.from(await res.arrayBuffer())
  let head = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n`
  res.headers.forEach((v, k) => {
    if (k !== 'content-length' && k !== 'connection') head += `${k}: ${v}\r\n`
  })
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`
  if (socket.destroyed) return
  await new Promise<void>((resolve) => {
    socket.end(Buffer.concat([Buffer.from(head), body]), () => resolve())
    socket.once('close', () => resolve())
  })
  socket.destroy()
}
