import { type Server, type Socket, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { nowUs } from './histogram.ts'
import { SubscriberSet } from './subscribers.ts'

/** A loopback server that answers every connection with an SSE head and then `frames`. */
function sseServer(frames: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n: connected\n\n')
        frames(s)
      })
    })
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 })
    })
  })
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

let servers: Server[] = []
let sets: SubscriberSet[] = []
afterEach(() => {
  for (const s of sets) s.closeAll()
  for (const s of servers) s.close()
  servers = []
  sets = []
})

describe('SubscriberSet', () => {
  it('counts every event when frames are split at every byte', async () => {
    const frame = Buffer.from('id: 1\ntopic: t-0\ndata: 12345-xxxx\n\n')
    const { server, port } = await sseServer((s) => {
      const all = Buffer.concat([frame, frame, frame])
      let i = 0
      const drip = () => {
        if (i >= all.length) return
        s.write(all.subarray(i, i + 1))
        i++
        setImmediate(drip)
      }
      drip()
    })
    servers.push(server)
    const subs = new SubscriberSet()
    sets.push(subs)
    const opened = await subs.open({
      kind: 'gateway',
      endpoints: [{ host: '127.0.0.1', port }],
      topics: { prefix: 't', from: 0, to: 1 },
      copies: 2,
      concurrency: 2,
      timeoutMs: 5000,
    })
    expect(opened.opened).toBe(2)
    await until(() => subs.events === 6)
    expect(subs.minPerSubscriber).toBe(3)
  })

  it('records the latency of the send time a publisher put in the body', async () => {
    const { server, port } = await sseServer((s) => {
      setTimeout(() => s.write(`id: 1\ndata: ${nowUs() - 2000}-pad\n\n`), 20)
    })
    servers.push(server)
    const subs = new SubscriberSet()
    sets.push(subs)
    subs.latency = true
    await subs.open({
      kind: 'nchan',
      endpoints: [{ host: '127.0.0.1', port }],
      topics: { prefix: 't', from: 0, to: 1 },
      copies: 1,
      concurrency: 1,
      timeoutMs: 5000,
    })
    await until(() => subs.events === 1)
    // Sent "2 ms ago": at least 2,000 µs, and well under a second on loopback.
    expect(subs.hist.quantile(0.5)).toBeGreaterThanOrEqual(2000)
    expect(subs.hist.quantile(0.5)).toBeLessThan(1_000_000)
  })

  it('refuses a stream that does not start with 200', async () => {
    const server = createServer((s) => s.once('data', () => s.end('HTTP/1.1 503 Busy\r\n\r\n')))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    servers.push(server)
    const addr = server.address()
    const subs = new SubscriberSet()
    sets.push(subs)
    const r = await subs.open({
      kind: 'gateway',
      endpoints: [{ host: '127.0.0.1', port: typeof addr === 'object' && addr ? addr.port : 0 }],
      topics: { prefix: 't', from: 0, to: 1 },
      copies: 1,
      concurrency: 1,
      timeoutMs: 5000,
    })
    expect(r).toMatchObject({ opened: 0, failed: 1 })
    expect(r.firstError).toContain('503')
  })
})
