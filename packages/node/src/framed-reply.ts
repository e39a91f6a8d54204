import type { ServerResponse } from 'node:http'

/**
 * The fields of Node's ServerResponse this file reads or sets, beyond its public types. Node
 * keeps the serialized response head in `_header` until it writes it; `_last` says whether the
 * connection closes after this response; the rest is how Node frames its keep-alive header.
 */
interface NodeResponse extends ServerResponse {
  _header: string | null
  _last: boolean
  _keepAliveTimeout?: number
  _maxRequestsPerSocket?: number
  _defaultKeepAlive?: boolean
  maxRequestsOnConnectionReached?: boolean
}

let dateSecond = -1
let dateLine = ''

/** `Date: …\r\n`, built once a second (Node caches its own the same way). */
function date(): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateLine = `Date: ${new Date(second * 1000).toUTCString()}\r\n`
  }
  return dateLine
}

const ASCII = /^[\x20-\x7e]*$/

/**
 * Answers `202` with a JSON body in one write of a head built here, the bytes Node's
 * `writeHead` + `end` would send (same header names and order, `Date`, `Connection` and
 * `Keep-Alive` as Node writes them), without Node's per-header validation or a second chunk.
 * Node still does everything around the bytes: the string is handed to it as the response's
 * head and `end()` sends it, so a response pipelined behind another waits its turn in Node's
 * queue, `finish` runs Node's keep-alive bookkeeping, and `_last` closes the connection after
 * it. Returns false, having written nothing, where Node must frame the answer itself (a head
 * already started, a request limit of the server reached, a header value that is not plain
 * printable ASCII: Node's own checks decide those).
 *
 * `body`: printable ASCII, as the publish answer always is (`publishAnswerJson`: checked names and
 * numbers), so its length is its size in bytes. `close`: end the connection after the answer (a
 * request body left unread). `extra`: headers after the content headers (CORS), names written as
 * given.
 */
export function writeAccepted(
  res: ServerResponse,
  body: string,
  close: boolean,
  extra?: Record<string, string>,
): boolean {
  const r = res as NodeResponse
  if (r._header !== null || r.maxRequestsOnConnectionReached || !r.sendDate) {
    return false
  }
  let head = `HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n`
  for (const name in extra) {
    const value = extra[name] as string
    if (!ASCII.test(value)) return false
    head += `${name}: ${value}\r\n`
  }
  head += date()
  if (close) {
    head += 'connection: close\r\n' // as the Connection header the fallback path passes Node
    r._last = true
  } else if (!r.shouldKeepAlive) {
    head += 'Connection: close\r\n'
    r._last = true
  } else {
    head += 'Connection: keep-alive\r\n'
    const ms = r._keepAliveTimeout
    if (ms && r._defaultKeepAlive !== false) {
      const max = r._maxRequestsPerSocket
      head += `Keep-Alive: timeout=${Math.floor(ms / 1000)}${max && max > 0 ? `, max=${max}` : ''}\r\n`
    }
  }
  r.statusCode = 202
  r.statusMessage = 'Accepted'
  r._header = `${head}\r\n${body}`
  r.end()
  return true
}
