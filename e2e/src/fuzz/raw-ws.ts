/**
 * A WebSocket client on a raw socket, so the fuzz suite can send frames no library would: bad
 * UTF-8, unmasked, reserved opcodes and bits, oversized. It answers pings (the gateway's
 * heartbeat) and keeps what the gateway sends: text frames and the close code.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import type { WsFrameInput } from './arbitraries.ts'

export class RawWs {
  readonly socket: net.Socket
  /** Text frames received, in order. */
  readonly texts: string[] = []
  /** The close code the gateway sent (1005 when its close frame had none), once it did. */
  closeCode: number | undefined
  /** The TCP connection is gone. */
  ended = false
  #buf = Buffer.alloc(0)
  #waiters = new Set<() => void>()

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c])
      this.#parse()
    })
    socket.on('close', () => {
      this.ended = true
      this.#notify()
    })
    socket.on('error', () => {})
  }

  /** Opens `/ws?…` and resolves after the 101, or with the refusal's status and body. */
  static open(
    url: string,
    path: string,
    timeoutMs = 10_000,
  ): Promise<RawWs | { status: number; head: string; body: string }> {
    const { hostname, port, host } = new URL(url)
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname)
      let head = Buffer.alloc(0)
      const timer = setTimeout(() => {
        socket.destroy()
        reject(
          new Error(
            `no handshake answer for ${path} within ${timeoutMs} ms: ${JSON.stringify(head.toString())}`,
          ),
        )
      }, timeoutMs)
      const onData = (c: Buffer) => {
        head = Buffer.concat([head, c])
        const end = head.indexOf('\r\n\r\n')
        if (end === -1) return
        const text = head.subarray(0, end).toString('latin1')
        const status = Number(text.split(' ')[1])
        if (status === 101) {
          clearTimeout(timer)
          socket.off('data', onData)
          const ws = new RawWs(socket)
          const rest = head.subarray(end + 4)
          if (rest.length > 0) socket.emit('data', rest)
          resolve(ws)
          return
        }
        const len = Number(/content-length:\s*(\d+)/i.exec(text)?.[1] ?? 0)
        const body = head.subarray(end + 4)
        if (body.length < len) return
        clearTimeout(timer)
        socket.destroy()
        resolve({ status, head: text, body: body.toString('utf8') })
      }
      socket.on('data', onData)
      socket.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      )
    })
  }

  /** Sends one frame exactly as described (mask bit, RSV bits, opcode and all). */
  send(f: WsFrameInput): void {
    if (this.ended) return
    this.socket.write(encodeFrame(f))
  }

  /** Resolves once `pred` holds, or rejects after `timeoutMs` naming `what`. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pred()) return
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      this.#waiters.add(check)
    })
  }

  close(): void {
    this.socket.destroy()
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w()
  }

  #parse(): void {
    for (;;) {
      const b = this.#buf
      if (b.length < 2) return
      const opcode = (b[0] as number) & 0x0f
      let len = (b[1] as number) & 0x7f
      let at = 2
      if (len === 126) {
        if (b.length < 4) return
        len = b.readUInt16BE(2)
        at = 4
      } else if (len === 127) {
        if (b.length < 10) return
        len = Number(b.readBigUInt64BE(2))
        at = 10
      }
      if (b.length < at + len) return
      const payload = b.subarray(at, at + len)
      this.#buf = b.subarray(at + len)
      if (opcode === 0x1) this.texts.push(payload.toString('utf8'))
      else if (opcode === 0x8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
      else if (opcode === 0x9) this.send({ opcode: 0xa, fin: true, rsv: 0, masked: true, payload })
      this.#notify()
    }
  }
}

function encodeFrame(f: WsFrameInput): Buffer {
  const len = f.payload.byteLength
  const head: number[] = [(f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 0x0f)]
  const maskBit = f.masked ? 0x80 : 0
  if (len < 126) head.push(maskBit | len)
  else if (len < 65_536) head.push(maskBit | 126, len >> 8, len & 0xff)
  else {
    head.push(maskBit | 127, 0, 0, 0, 0)
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff)
  }
  if (!f.masked) return Buffer.concat([Buffer.from(head), f.payload])
  const mask = randomBytes(4)
  const body = Buffer.from(f.payload)
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([Buffer.from(head), mask, body])
}
