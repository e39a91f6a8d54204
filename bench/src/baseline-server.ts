/**
 * The labelled baseline: a plain `node:http` SSE fan-out server, written the way a careful
 * developer would write one in an afternoon, with the gateway's API (GET /sse?topic=, POST
 * /publish with x-sse-topic / x-sse-id). One topic per subscriber, no auth check beyond the
 * header's presence, no admin, no limits. It is the floor any Node gateway should beat.
 *
 *   PORT=9200 HOST=127.0.0.1 node bench/dist/baseline-server.js
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'

const topics = new Map<string, Set<ServerResponse>>()

function subscribe(req: IncomingMessage, res: ServerResponse, topic: string): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  })
  res.write(': connected\n\n')
  const subs = topics.get(topic) ?? new Set<ServerResponse>()
  topics.set(topic, subs)
  subs.add(res)
  req.socket.setTimeout(0)
  res.on('close', () => {
    subs.delete(res)
    if (subs.size === 0) topics.delete(topic)
  })
}

function publish(req: IncomingMessage, res: ServerResponse): void {
  const topic = String(req.headers['x-sse-topic'] ?? '')
  const id = String(req.headers['x-sse-id'] ?? '')
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const data = Buffer.concat(chunks).toString('utf8')
    const frame = `id: ${id}\ndata: ${data.split('\n').join('\ndata: ')}\n\n`
    const subs = topics.get(topic)
    let n = 0
    if (subs) {
      for (const s of subs) s.write(frame)
      n = subs.size
    }
    const body = JSON.stringify({
      id,
      delivered: n > 0 ? [topic] : [],
      dropped: n > 0 ? [] : [topic],
    })
    res.writeHead(202, { 'content-type': 'application/json' })
    res.end(body)
  })
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  if (req.method === 'GET' && url.pathname === '/sse') {
    subscribe(req, res, url.searchParams.get('topic') ?? '')
  } else if (req.method === 'POST' && url.pathname === '/publish') {
    publish(req, res)
  } else if (url.pathname === '/healthz') {
    res.end('ok')
  } else {
    res.writeHead(404).end()
  }
})
server.keepAliveTimeout = 65_000
server.requestTimeout = 0
server.listen(Number(process.env.PORT ?? 9200), process.env.HOST ?? '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
