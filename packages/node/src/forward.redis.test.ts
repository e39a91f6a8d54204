import http from 'node:http'
import { loadConfig, silentLogger } from '@sse-gateway/core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RedisNamespace } from './redis-namespace.ts'
import { type TestRedis, startTestRedis } from './redis-test-server.ts'
import { type NodeGateway, startGateway } from './server.ts'

// Two ways of forwarding between real in-process gateways (HTTP + Redis), each checked for
// delivery to exactly the nodes that need an event, and for order.

const KEY = 'fwd-key'
let redis: TestRedis
const gateways: NodeGateway[] = []
let run = 0

beforeAll(async () => {
  redis = await startTestRedis()
})
afterAll(async () => {
  await redis?.stop()
})
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()))
  run++
})

async function gateway(id: string, forward: string): Promise<NodeGateway> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    API_KEYS: KEY,
    REDIS_URL: redis.url,
    REDIS_PREFIX: `fwd${run}:`,
    CLUSTER_FORWARD: forward,
    NODE_ID: id,
    NODE_TTL_MS: '1500',
    SHUTDOWN_TIMEOUT_MS: '1000',
    DRAIN_LINGER_MS: '0',
  })
  const gw = await startGateway(config, { log: silentLogger })
  gateways.push(gw)
  return gw
}

/**
 * An SSE subscriber that keeps the publisher's ids of the events it receives (the part of the
 * SSE id before `~`; the gateway's own events are left out).
 */
function subscribe(url: string, topic: string): Promise<{ ids: string[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const ids: string[] = []
    const req = http.get(`${url}/sse?topic=${topic}`, { agent: false }, (res) => {
      res.setEncoding('utf8')
      let buf = ''
      res.on('data', (chunk: string) => {
        buf += chunk
        for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          if (frame.includes(': connected')) resolve({ ids, close: () => req.destroy() })
          const id = /^id: ([^~\n]*)/m.exec(frame)?.[1]
          if (id !== undefined && !/^event: gateway\./m.test(frame)) ids.push(id)
        }
      })
    })
    req.on('error', reject)
    setTimeout(() => reject(new Error('no stream')), 5000).unref()
  })
}

async function publish(url: string, topic: string, id: string) {
  const res = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'x-sse-topic': topic, 'x-sse-id': id },
    body: `data ${id}`,
  })
  return (await res.json()) as { delivered: string[]; dropped: string[] }
}

async function until(pred: () => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.each(['redis', 'http'])('forwarding over %s', (forward) => {
  it('reaches exactly the nodes that hold the topic, in publish order', async () => {
    const a = await gateway('node-a', forward)
    const b = await gateway('node-b', forward)
    const c = await gateway('node-c', forward)
    const onB = await subscribe(b.url, 'x')
    const onC = await subscribe(c.url, 'other')
    const marker = await subscribe(c.url, 'marker')
    for (let i = 0; i < 50; i++) {
      expect(await publish(a.url, 'x', `${i}`)).toEqual({
        id: `${i}`,
        delivered: ['x'],
        dropped: [],
      })
    }
    await publish(a.url, 'marker', 'end')
    await until(() => onB.ids.length === 50 && marker.ids.length === 1, '50 events on node-b')
    expect(onB.ids).toEqual(Array.from({ length: 50 }, (_, i) => `${i}`))
    expect(onC.ids).toEqual([])
    expect(b.backend.counters.delivered).toBe(50)
    for (const s of [onB, onC, marker]) s.close()
  })

  it("keeps each publisher's order when publishes on two nodes interleave (batched forwards)", async () => {
    const a = await gateway('node-a', forward)
    const b = await gateway('node-b', forward)
    const c = await gateway('node-c', forward)
    const subs = [
      await subscribe(a.url, 'z'),
      await subscribe(b.url, 'z'),
      await subscribe(c.url, 'z'),
    ]
    // Eight publishers at once, four on each of two nodes, each waiting for its 202 before its
    // next event: the forwards of one node to another carry several events at a time.
    const per = 40
    const publishers = Array.from({ length: 8 }, (_, p) => ({
      name: `p${p}`,
      url: p % 2 ? b.url : a.url,
    }))
    await Promise.all(
      publishers.map(async ({ name, url }) => {
        for (let i = 0; i < per; i++) await publish(url, 'z', `${name}.${i}`)
      }),
    )
    const total = per * publishers.length
    await until(() => subs.every((s) => s.ids.length >= total), `${total} events on every node`)
    for (const s of subs) {
      expect(s.ids).toHaveLength(total)
      for (const { name } of publishers) {
        const mine = s.ids.filter((id) => id.startsWith(`${name}.`))
        expect(mine).toEqual(Array.from({ length: per }, (_, i) => `${name}.${i}`))
      }
    }
    for (const s of subs) s.close()
  })

  it('still delivers to the other nodes when one node holding the topic is gone', async () => {
    const a = await gateway('node-a', forward)
    const b = await gateway('node-b', forward)
    const c = await gateway('node-c', forward)
    const onB = await subscribe(b.url, 'y')
    const onC = await subscribe(c.url, 'y')
    // node-c stops answering as a killed process would: its lease has not run out yet.
    const ns = c.namespace as unknown as RedisNamespace
    await ns.forwarder.stop()
    ns.redis.disconnect(false)
    c.server.closeAllConnections()
    c.server.close()
    expect(await publish(a.url, 'y', 'after')).toEqual({
      id: 'after',
      delivered: ['y'],
      dropped: [],
    })
    await until(() => onB.ids.length === 1, 'the event on node-b')
    for (const s of [onB, onC]) s.close()
  })
})
