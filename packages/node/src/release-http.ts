import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
// Node's own HTTP internals (public module, undocumented): the parser pool's release.
// @ts-expect-error no type declarations ship for node:_http_common
import { freeParser } from 'node:_http_common'

type Listener = (...args: unknown[]) => void

/** A released stream's `end` listener (`this`: the socket): one function for every socket. */
function destroyOnEnd(this: Socket): void {
  this.destroy()
}

/** The methods Node's server wraps on each socket it serves (one closure each, per socket). */
const WRAPPED = ['on', 'addListener', 'prependListener', 'setEncoding'] as const

function only(socket: Socket, event: string, name: string): Listener | undefined {
  const found = socket.listeners(event).filter((fn) => fn.name === name)
  return found.length === 1 ? (found[0] as Listener) : undefined
}

/**
 * Lets go of what Node's HTTP server keeps for a request once an event stream has started on
 * its socket: the request and response objects, the parser and the server's per-connection
 * state. From then on the socket carries our chunks only. Worth about a third of an idle
 * stream's memory (docs/benchmarks.md). Returns false, changing nothing, when the socket does
 * not look as this Node version's server leaves it (another Node version, a pipelined request
 * behind ours): the stream then keeps the server's state, as before.
 */
export function releaseHttpState(res: ServerResponse, socket: Socket): boolean {
  const parser = (socket as Socket & { parser?: unknown }).parser
  if (!parser || res.req.complete !== true) return false
  const onData = only(socket, 'data', 'bound socketOnData')
  const onEnd = only(socket, 'end', 'bound socketOnEnd')
  const onClose = only(socket, 'close', 'bound socketOnClose')
  const onDrain = only(socket, 'drain', 'bound socketOnDrain')
  if (!onData || !onEnd || !onClose || !onDrain || socket.readableLength > 0) return false
  res.detachSocket(socket)
  socket.removeListener('data', onData)
  socket.removeListener('end', onEnd)
  socket.removeListener('close', onClose)
  socket.removeListener('drain', onDrain)
  freeParser(parser, res.req, socket)
  // The server's wrappers only matter while its parser reads the socket; the prototype's own
  // methods take their place (assigned, not deleted: the socket keeps its fast shape).
  const own = socket as unknown as Record<string, unknown>
  const proto = Object.getPrototypeOf(socket) as Record<string, unknown>
  for (const name of WRAPPED) if (Object.hasOwn(own, name)) own[name] = proto[name]
  // The peer's address, cached by the first `remoteAddress` (the connection keeps its own copy).
  if (own._peername !== undefined) own._peername = undefined
  // A client that half-closes is gone; anything it sends is discarded. (`on`, not `once`: a
  // socket ends once, and `once` costs a wrapper per socket.)
  socket.on('end', destroyOnEnd)
  socket.resume()
  return true
}
