/**
 * The reference of the request path (issue "The request path at the cost of a bare server"):
 * the least a correct Node server can do for the gateway's job. `node:http`, a Map of topic to
 * subscribers; a publish checks the bearer key and the topic header, answers a topic with no
 * subscriber `202` at once with an empty body and without reading the body, and otherwise reads
 * the body, writes one frame to each subscriber and answers `202`. No validation beyond that, no
 * admin, no limits, one topic per subscriber.
 *
 *   PORT=9201 HOST=127.0.0.1 API_KEY=k node bench/dist/bare-server.js
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'

const KEY = `Bearer ${process.env.API_KEY ?? 'bench-key'}`
const topics = new Map<string, Set<ServerResponse>>()

function subscribe(req: IncomingMessage, res: ServerResponse, topic: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.write(': connected\n\n')
  let subs = topics.get(topic)
  if (!subs) {
    subs = new Set()
    topics.set(topic, subs)
  }
  subs.add(res)
  req.socket.setTimeout(0)
  res.on('close', () => {
    subs.delete(res)
    if (subs.size === 0) topics.delete(topic)
  })
}

function publish(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.authorization !== KEY) {
    res.writeHead(401, { connection: 'close' }).end()
    return
  }
  const topic = req.headers['x-sse-topic']
  const subs = typeof topic === 'string' ? topics.get(topic) : undefined
  if (!subs) {
    res.writeHead(202, { 'content-length': 0 }).end()
    return
  }
  const id = req.headers['x-sse-id']
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const frame = `id: ${id}\ndata: ${Buffer.concat(chunks).toString('utf8')}\n\n`
    for (const s of subs) s.write(frame)
    res.writeHead(202, { 'content-length': 0 }).end()
  })
}

const server = createServer((req, res) => {
  const url = req.url ?? '/'
  if (req.method === 'POST' && url === '/publish') publish(req, res)
  else if (req.method === 'GET' && url.startsWith('/sse?topic=')) subscribe(req, res, url.slice(11))
  else if (url === '/healthz') res.end('ok')
  else res.writeHead(404).end()
})
server.keepAliveTimeout = 65_000
server.requestTimeout = 0
server.listen(Number(process.env.PORT ?? 9201), process.env.HOST ?? '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
