import type { Socket } from 'node:net'
import { errorResponse } from '@sse-gateway/core'

/**
 * MAX_CONNECTIONS_PER_IP: open TCP connections one remote address may hold (SSE streams,
 * WebSockets and keep-alive sockets alike; 0 = no limit). A connection past the limit is let in
 * only to be told so: its first request gets `429` and the connection is closed. Behind a proxy
 * every client has the proxy's address, so there the limit belongs in the proxy.
 */
export class ConnectionsPerAddress {
  readonly max: number
  readonly #open = new Map<string, number>()
  readonly #over = new WeakSet<Socket>()

  constructor(max: number) {
    this.max = max
  }

  /** Counts a new connection until it closes. */
  track(socket: Socket): void {
    if (this.max === 0) return
    const address = socket.remoteAddress ?? ''
    const n = (this.#open.get(address) ?? 0) + 1
    this.#open.set(address, n)
    if (n > this.max) this.#over.add(socket)
    socket.once('close', () => {
      const left = (this.#open.get(address) ?? 1) - 1
      if (left === 0) this.#open.delete(address)
      else this.#open.set(address, left)
    })
  }

  /** Whether this connection came in past its address's limit. */
  refuses(socket: Socket): boolean {
    return this.#over.has(socket)
  }

  /** The answer to a request on a connection past the limit. */
  response(): Response {
    return errorResponse(
      'limit_exceeded',
      `too many connections from this address (MAX_CONNECTIONS_PER_IP=${this.max}); close some or retry later`,
      { 'retry-after': '5' },
    )
  }
}
