import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { KEY, useTestGateway } from './test-gateway.ts'
import WebSocket from 'ws'

const start = useTestGateway()

function publish(url: string, topic: string, id: string, body: string) {
  return fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'x-sse-topic': topic, 'x-sse-id': id },
    body,
  })
}

/** A subscriber on a raw socket: reads only when told to, so it can play a slow consumer. */
function rawSubscribe(
  url: string,
  topic: string,
  read: boolean,
): Promise<{ socket: net.Socket; text: () => string; closed: Promise<void> }> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1')
    let text = ''
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    socket.on('error', () => {})
    socket.once('connect', () => {
      socket.write(`GET /sse?topic=${topic} HTTP/1.1\r\nHost: x\r\n\r\n`)
    })
    let opened = false
    socket.on('data', (c) => {
      text += c.toString()
      if (!opened && text.includes(': connected')) {
        opened = true
        if (!read) socket.pause()
        resolve({ socket, text: () => text, closed })
      }
    })
    setTimeout(() => reject(new Error('no stream')), 5000).unref()
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

describe('Node gateway', () => {
  it('answers publishes pipelined on one keep-alive connection in order, each delivered', async () => {
    const { url } = await start()
    const sub = await rawSubscribe(url, 'pipe', true)
    const { port } = new URL(url)
    const socket = net.connect(Number(port), '127.0.0.1')
    let answers = ''
    socket.on('data', (c) => {
      answers += c.toString()
    })
    const req = (id: string, topic: string, body: string) =>
      `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nx-sse-topic: ${topic}\r\n` +
      `x-sse-id: ${id}\r\ncontent-length: ${body.length}\r\n\r\n${body}`
    // Three requests in one write: delivered, dropped (its body left unread), delivered.
    socket.write(req('p1', 'pipe', 'one') + req('p2', 'nobody', 'xx') + req('p3', 'pipe', 'three'))
    await until(() => (answers.match(/HTTP\/1\.1 202/g) ?? []).length === 3, 5000, 'three answers')
    const ids = [...answers.matchAll(/"id":"(p\d)"/g)].map((m) => m[1])
    expect(ids).toEqual(['p1', 'p2', 'p3'])
    expect(answers).toContain('"dropped":["nobody"]')
    await until(() => sub.text().includes('data: three'), 5000, 'both events')
    expect(sub.text().indexOf('data: one')).toBeLessThan(sub.text().indexOf('data: three'))
    socket.destroy()
    sub.socket.destroy()
  })

  it('leaves nothing behind when the last connection of a topic closes', async () => {
    const g = await start()
    await new Promise((r) => setImmediate(r))
    const baseline = process.getActiveResourcesInfo().sort()
    const subs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rawSubscribe(g.url, `t${i % 4}`, true)),
    )
    expect(g.namespace.hub.topicCount).toBe(4)
    expect(g.backend.liveConnections).toBe(20)
    for (const s of subs) s.socket.destroy()
    await Promise.all(subs.map((s) => s.closed))
    await until(() => g.backend.liveConnections === 0, 5000, 'connections to close')
    await new Promise((r) => setImmediate(r))
    // No socket or timer of the closed connections is left in the process: no kind of resource
    // is more numerous than before they opened (unrelated timers may have ended meanwhile).
    const count = (list: string[]) =>
      list.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>())
    const before = count(baseline)
    for (const [kind, n] of count(process.getActiveResourcesInfo())) {
      expect(n, kind).toBeLessThanOrEqual(before.get(kind) ?? 0)
    }
    expect(g.namespace.hub.topicCount).toBe(0)
    expect([...g.namespace.hub.topics()]).toEqual([])
    const listed = await (
      await fetch(`${g.url}/admin/api/topics`, { headers: { 'x-api-key': KEY } })
    ).json()
    expect(listed).toEqual({ items: [], nextCursor: null })
  })

  it('disconnects a slow consumer past its buffer bound while the others keep receiving', async () => {
    const g = await start({ SLOW_CONSUMER_BYTES: '65536' })
    const slow = await rawSubscribe(g.url, 'firehose', false)
    const fast = await rawSubscribe(g.url, 'firehose', true)
    const chunk = 'x'.repeat(200_000)
    let n = 0
    // Bounded: the kernel buffers a few MB on loopback before the gateway's own bound is reached.
    while (g.backend.counters.slowConsumerDisconnects === 0 && n < 400) {
      const res = await publish(g.url, 'firehose', `e${n}`, chunk)
      expect(res.status).toBe(202)
      n++
    }
    expect(g.backend.counters.slowConsumerDisconnects).toBe(1)
    slow.socket.resume() // a paused socket only sees its end once it reads what is buffered
    await slow.closed
    await publish(g.url, 'firehose', 'last', 'done')
    await until(
      () => fast.text().includes('id: last'),
      10_000,
      'the fast subscriber to get every event',
    )
    for (let i = 0; i < n; i++) expect(fast.text()).toContain(`id: e${i}~`)
    const stats = await (
      await fetch(`${g.url}/admin/api/stats`, { headers: { 'x-api-key': KEY } })
    ).json()
    expect(stats.slowConsumerDisconnects).toBe(1)
    fast.socket.destroy()
  })

  it('refuses connections past MAX_CONNECTIONS with 503 and a clear error, over SSE and WebSocket', async () => {
    const g = await start({ MAX_CONNECTIONS: '2' })
    const a = await rawSubscribe(g.url, 'x', true)
    const b = await rawSubscribe(g.url, 'x', true)
    const res = await fetch(`${g.url}/sse?topic=x`)
    expect(res.status).toBe(503)
    expect((await res.json()).error.message).toMatch(/MAX_CONNECTIONS=2/)
    expect(res.headers.get('retry-after')).toBe('5')
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${g.url.replace('http', 'ws')}/ws?topic=x`)
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0))
      ws.on('open', () => resolve(101))
      ws.on('error', () => {})
    })
    expect(status).toBe(503)
    a.socket.destroy()
    await a.closed
    await until(() => g.backend.liveConnections === 1, 5000, 'a slot to free up')
    const c = await rawSubscribe(g.url, 'x', true)
    c.socket.destroy()
    b.socket.destroy()
  })

  /** A publisher on a raw keep-alive socket: what it wrote, and the head of a drop to send. */
  async function rawPublisher() {
    const g = await start()
    const { port } = new URL(g.url)
    const socket = net.connect(Number(port), '127.0.0.1')
    let text = ''
    socket.on('data', (c) => {
      text += c.toString()
    })
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    const head = (id: string, length: number) =>
      `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nx-sse-topic: nobody\r\nx-sse-id: ${id}\r\nContent-Length: ${length}\r\n\r\n`
    const answered = (id: string, what: string) =>
      until(() => text.includes(`"id":"${id}"`), 5000, what)
    return { socket, text: () => text, closed, head, answered }
  }

  it('keeps a keep-alive connection usable after a drop whose body was fully sent', async () => {
    const p = await rawPublisher()
    p.socket.write(`${p.head('k1', 5)}hello`)
    await p.answered('k1', 'the first answer')
    p.socket.write(`${p.head('k2', 5)}hello`)
    await p.answered('k2', 'the second answer on the same socket')
    expect(p.text().match(/HTTP\/1\.1 202/g)).toHaveLength(2)
    expect(p.text()).not.toMatch(/connection: close/i)
    p.socket.destroy()
  })

  it('answers a drop before its small body arrives, then reads the body past and keeps the connection', async () => {
    const p = await rawPublisher()
    // The body (a request of its own, were it parsed as one) comes only after the answer.
    const smuggled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    p.socket.write(p.head('late', smuggled.length))
    await p.answered('late', 'the answer before the body')
    expect(p.text()).not.toMatch(/connection: close/i)
    p.socket.write(`${smuggled}${p.head('next', 5)}hello`)
    await p.answered('next', 'the next answer on the same socket')
    expect(p.text().match(/HTTP\/1\.1 /g)).toEqual(['HTTP/1.1 ', 'HTTP/1.1 '])
    expect(p.text()).not.toContain('"status"')
    p.socket.destroy()
  })

  it('closes the connection after a drop whose large declared body has not arrived', async () => {
    const p = await rawPublisher()
    p.socket.write(`${p.head('big', 65_537)}0123456789`)
    await p.answered('big', 'the answer')
    expect(p.text()).toMatch(/^connection: close\r$/im)
    p.socket.end()
    await p.closed
  })

  it('exposes Prometheus metrics for connections, publishes and latency', async () => {
    const g = await start()
    const s = await rawSubscribe(g.url, 'm', true)
    await publish(g.url, 'm', '1', 'x')
    await publish(g.url, 'none', '2', 'x')
    const text = await (await fetch(`${g.url}/metrics`)).text()
    expect(text).toMatch(/^sse_gateway_connections 1$/m)
    expect(text).toMatch(/^sse_gateway_topics 1$/m)
    expect(text).toMatch(/^sse_gateway_published_total 2$/m)
    expect(text).toMatch(/^sse_gateway_delivered_total 1$/m)
    expect(text).toMatch(/^sse_gateway_dropped_total 1$/m)
    expect(text).toMatch(/^sse_gateway_publish_duration_seconds_count 1$/m)
    expect(text).toMatch(/^sse_gateway_slow_consumer_disconnects_total 0$/m)
    s.socket.destroy()
  })

  it('drains on close: streams end cleanly, WebSockets get 1001, new subscribers get 503', async () => {
    const g = await start()
    const s = await rawSubscribe(g.url, 'd', true)
    const ws = new WebSocket(`${g.url.replace('http', 'ws')}/ws?topic=d`)
    await new Promise((r) => ws.once('open', r))
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)))
    const closing = g.close()
    await s.closed
    expect(await code).toBe(1001)
    await closing
  })
})

describe('shutdown', () => {
  it('does not wait for a socket that never sent a request', async () => {
    const g = await start({ SHUTDOWN_TIMEOUT_MS: '600000' })
    const { port } = new URL(g.url)
    const idle = net.connect(Number(port), '127.0.0.1')
    await new Promise((r) => idle.once('connect', r))
    const gone = new Promise<void>((r) => idle.once('close', () => r()))
    idle.on('error', () => {})
    // With a ten-minute drain timeout, this only finishes if the idle socket is closed for us.
    await g.close()
    await gone
  })
})
