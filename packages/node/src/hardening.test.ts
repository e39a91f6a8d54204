import { readFileSync } from 'node:fs'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { KEY, useTestGateway } from './test-gateway.ts'

const start = useTestGateway()

/** A raw socket: what it received, and whether (and how) it ended. */
interface Raw {
  socket: net.Socket
  text: () => string
  bytes: () => number
  /** Resolves when the socket closes: with the error that closed it, if any. */
  closed: Promise<{ error: string | undefined }>
}

function connect(url: string, bytes: string | Buffer = ''): Promise<Raw> {
  const { port, hostname } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    let text = ''
    let count = 0
    let error: string | undefined
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message
    })
    const closed = new Promise<{ error: string | undefined }>((r) =>
      socket.once('close', () => r({ error })),
    )
    socket.on('data', (c: Buffer) => {
      text += c.toString('utf8')
      count += c.length
    })
    socket.once('connect', () => {
      if (bytes.length > 0) socket.write(bytes)
      resolve({ socket, text: () => text, bytes: () => count, closed })
    })
    socket.once('error', reject)
  })
}

function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const tick = () => {
      if (pred()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`))
      setTimeout(tick, 10)
    }
    tick()
  })
}

/** The JSON body of the single response in `text` (content-length delimited). */
function jsonOf(text: string): { error: { code: string; message: string } } {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))
}

async function subscribe(url: string, topic: string): Promise<Raw> {
  const s = await connect(url, `GET /sse?topic=${topic} HTTP/1.1\r\nHost: x\r\n\r\n`)
  await until(() => s.text().includes('gateway.connected'), 5000, 'the stream to open')
  return s
}

describe('pipelined publishes', () => {
  it('answers drops and a refusal sent in one write in order, keeping the connection open', async () => {
    const g = await start()
    const publish = (id: string, auth = `Authorization: Bearer ${KEY}\r\n`) =>
      `POST /publish HTTP/1.1\r\nHost: x\r\n${auth}x-sse-topic: nobody\r\nx-sse-id: ${id}\r\n` +
      'Content-Length: 16\r\n\r\n0123456789abcdef'
    const s = await connect(g.url, publish('one') + publish('two', '') + publish('three'))
    await until(() => s.text().includes('"id":"three"'), 5000, 'the third answer')
    const statuses = [...s.text().matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => m[1])
    expect(statuses).toEqual(['202', '401', '202'])
    expect(s.text().indexOf('"id":"one"')).toBeLessThan(s.text().indexOf('"id":"three"'))
    expect(s.text()).not.toMatch(/^connection: close/im)
    // The same connection takes another publish.
    s.socket.write(publish('four'))
    await until(() => s.text().includes('"id":"four"'), 5000, 'the fourth answer')
    expect(s.socket.destroyed).toBe(false)
    s.socket.destroy()
  })
})

describe('timeouts', () => {
  it('answers a publish whose body stalls with 408 JSON and closes its connection', async () => {
    const g = await start({ BODY_TIMEOUT_MS: '1000' })
    const sub = await subscribe(g.url, 'live')
    const pub = await connect(
      g.url,
      `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nx-sse-topic: live\r\n` +
        'x-sse-id: stalled\r\nContent-Length: 1000\r\n\r\n0123456789',
    )
    await pub.closed
    expect(pub.text()).toMatch(/^HTTP\/1\.1 408 /)
    expect(pub.text()).toMatch(/^content-type: application\/json/im)
    expect(jsonOf(pub.text()).error).toEqual({
      code: 'request_timeout',
      message: expect.stringContaining('BODY_TIMEOUT_MS (1000 ms)'),
    })
    // Nothing of it reached the subscriber, who is still connected.
    expect(sub.text()).not.toContain('stalled')
    expect(sub.socket.destroyed).toBe(false)
    sub.socket.destroy()
  })

  it('answers a request whose headers never finish with 408 JSON and closes it', async () => {
    const g = await start({ HEADERS_TIMEOUT_MS: '1000' })
    const s = await connect(g.url, 'GET /sse?topic=a HTTP/1.1\r\nHost: x\r\nx-sse-to')
    const { error } = await s.closed
    expect(error).toBeUndefined()
    expect(s.text()).toMatch(/^HTTP\/1\.1 408 /)
    expect(jsonOf(s.text()).error.code).toBe('request_timeout')
  })

  it('closes a connection that never sends a request', async () => {
    const g = await start({ HEADERS_TIMEOUT_MS: '1000' })
    const s = await connect(g.url)
    await s.closed
  })

  it('closes an idle keep-alive connection after KEEPALIVE_TIMEOUT_MS', async () => {
    const g = await start({ KEEPALIVE_TIMEOUT_MS: '1000' })
    const s = await connect(g.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    await until(() => s.text().includes('"status":"ok"'), 5000, 'the answer')
    expect(s.text()).toMatch(/^keep-alive: timeout=1$/im)
    await s.closed
  })

  it('keeps an open stream past every request timeout', async () => {
    const g = await start({ HEADERS_TIMEOUT_MS: '1000', BODY_TIMEOUT_MS: '1000' })
    const sub = await subscribe(g.url, 'long')
    // Two heartbeats of the default 15 s would be too long to wait for; a publish after the
    // timeouts have passed several times over shows the stream is still served.
    await new Promise((r) => setTimeout(r, 2500))
    const res = await fetch(`${g.url}/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'x-sse-topic': 'long', 'x-sse-id': 'late' },
      body: 'still here',
    })
    expect(res.status).toBe(202)
    await until(() => sub.text().includes('still here'), 5000, 'the late event')
    sub.socket.destroy()
  })

  it('answers a WebSocket handshake the gateway cannot complete in time with 408', async () => {
    const g = await start({ WS_HANDSHAKE_TIMEOUT_MS: '1000' })
    // Stands for a registration that hangs (a Redis that stopped answering, say).
    g.backend.subscribe = () => new Promise(() => {})
    const s = await connect(
      g.url,
      'GET /ws?topic=a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    await s.closed
    expect(s.text()).toMatch(/^HTTP\/1\.1 408 /)
    expect(jsonOf(s.text()).error.message).toContain('WS_HANDSHAKE_TIMEOUT_MS (1000 ms)')
  })
})

describe('requests Node alone would mishandle', () => {
  it('refuses a publish sent with an Upgrade header instead of taking it for a GET', async () => {
    const g = await start()
    const s = await connect(
      g.url,
      `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nUpgrade: h2c\r\n` +
        'Connection: Upgrade\r\nx-sse-topic: a\r\nx-sse-id: 1\r\nContent-Length: 2\r\n\r\nhi',
    )
    await s.closed
    expect(s.text()).toMatch(/^HTTP\/1\.1 400 /)
    expect(jsonOf(s.text()).error.message).toMatch(/only GET \/ws/)
  })

  it('answers malformed HTTP in the contract’s JSON shape', async () => {
    const g = await start()
    const s = await connect(g.url, 'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n')
    await s.closed
    expect(s.text()).toMatch(/^HTTP\/1\.1 400 /)
    expect(jsonOf(s.text()).error.code).toBe('bad_request')
  })

  it('keeps UTF-8 in a header intact when an error message quotes it', async () => {
    const g = await start()
    const head = 'GET /sse HTTP/1.1\r\nHost: x\r\nx-sse-topic: café\r\n\r\n'
    const s = await connect(g.url, Buffer.from(head, 'utf8'))
    await until(() => s.text().includes('}}'), 5000, 'the answer')
    expect(s.text()).toMatch(/^HTTP\/1\.1 400 /)
    expect(jsonOf(s.text()).error.message).toContain('invalid topic "café"')
    s.socket.destroy()
  })

  it('keeps UTF-8 intact where a publish is refused, and takes a key with non-ASCII characters', async () => {
    const g = await start({ API_KEYS: `${KEY},clé-secrète` })
    const answer = async (headers: string) => {
      const head = `POST /publish HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: 1\r\n\r\nx`
      const s = await connect(g.url, Buffer.from(head, 'utf8'))
      await until(() => s.text().includes('}'), 5000, 'the answer')
      s.socket.destroy()
      return { status: s.text().slice(9, 12), body: jsonOf(s.text()) }
    }
    const auth = `Authorization: Bearer ${KEY}\r\n`
    const topic = await answer(`${auth}x-sse-topic: café\r\nx-sse-id: 1\r\n`)
    expect(topic.status).toBe('400')
    expect(topic.body.error.message).toContain('invalid topic "café"')
    const broadcastId = await answer(`${auth}x-sse-topic: *\r\nx-sse-id: thé\r\n`)
    expect(broadcastId.status).toBe('400')
    expect(broadcastId.body.error.message).toContain('invalid x-sse-id "thé"')
    const key = await answer(
      'Authorization: Bearer clé-secrète\r\nx-sse-topic: nobody\r\nx-sse-id: k\r\n',
    )
    expect(key.status).toBe('202')
    expect(key.body).toEqual({ id: 'k', delivered: [], dropped: ['nobody'] })
  })
})

describe('limits per client', () => {
  it('refuses connections past MAX_CONNECTIONS_PER_IP with 429 JSON, over SSE and WebSocket', async () => {
    const g = await start({ MAX_CONNECTIONS_PER_IP: '2' })
    const a = await subscribe(g.url, 'x')
    const b = await subscribe(g.url, 'x')
    const c = await connect(g.url, 'GET /sse?topic=x HTTP/1.1\r\nHost: x\r\n\r\n')
    await c.closed
    expect(c.text()).toMatch(/^HTTP\/1\.1 429 /)
    expect(c.text()).toMatch(/^retry-after: 5$/im)
    expect(jsonOf(c.text()).error).toEqual({
      code: 'limit_exceeded',
      message: expect.stringContaining('MAX_CONNECTIONS_PER_IP=2'),
    })
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${g.url.replace('http', 'ws')}/ws?topic=x`)
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0))
      ws.on('open', () => resolve(101))
      ws.on('error', () => {})
    })
    expect(status).toBe(429)
    // A connection that closes frees its place.
    a.socket.destroy()
    await a.closed
    await until(() => g.backend.liveConnections === 1, 5000, 'a place to free up')
    const d = await subscribe(g.url, 'x')
    d.socket.destroy()
    b.socket.destroy()
  })

  it('counts nothing when MAX_CONNECTIONS_PER_IP is unset', async () => {
    const g = await start()
    const subs = await Promise.all(Array.from({ length: 20 }, () => subscribe(g.url, 'many')))
    expect(g.backend.liveConnections).toBe(20)
    for (const s of subs) s.socket.destroy()
  })
})

describe('slow consumers', () => {
  it('resets a slow consumer: the kernel holds none of its unsent bytes afterwards', async () => {
    const g = await start({ SLOW_CONSUMER_BYTES: '65536' })
    const slow = await subscribe(g.url, 'firehose')
    slow.socket.pause()
    const chunk = 'x'.repeat(200_000)
    let n = 0
    while (g.backend.counters.slowConsumerDisconnects === 0 && n < 400) {
      const res = await fetch(`${g.url}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'x-sse-topic': 'firehose', 'x-sse-id': `e${n}` },
        body: chunk,
      })
      expect(res.status).toBe(202)
      n++
    }
    expect(g.backend.counters.slowConsumerDisconnects).toBe(1)
    // A graceful close leaves the gateway's side in FIN-WAIT-1 with megabytes queued for a
    // client that does not read; a reset leaves nothing.
    const gatewayPort = Number(new URL(g.url).port)
    const clientPort = slow.socket.localPort as number
    await until(
      () => unsentBytes(gatewayPort, clientPort) === 0,
      5000,
      'the kernel to let go of the slow consumer’s unsent bytes',
    )
    slow.socket.destroy()
  })
})

/** Bytes the kernel still queues from `localPort` to `remotePort` on loopback (Linux). */
function unsentBytes(localPort: number, remotePort: number): number {
  const lines = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
  let sum = 0
  for (const line of lines) {
    const f = line.trim().split(/\s+/)
    if (f.length < 5) continue
    const local = Number.parseInt((f[1] as string).split(':')[1] as string, 16)
    const remote = Number.parseInt((f[2] as string).split(':')[1] as string, 16)
    if (local !== localPort || remote !== remotePort) continue
    sum += Number.parseInt((f[4] as string).split(':')[0] as string, 16)
  }
  return sum
}
