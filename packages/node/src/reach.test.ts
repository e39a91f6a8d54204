import net from 'node:net'
import { type Logger, loadConfig } from '@sse-gateway/core'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { startGateway } from './server.ts'
import { openSse, openWs, until } from './test-clients.ts'
import { KEY, useTestGateway } from './test-gateway.ts'

// Issue #16 on the embedded (memory) gateway: broadcast, direct send, presence, private topics.

const start = useTestGateway()
const SECRET = 'node-unit-test-subscriber-secret-0123456789'
const PRIVATE = { PRIVATE_TOPICS: 'private:*', TOKEN_SECRET: SECRET }

function post(url: string, path: string, headers: Record<string, string>, body: string) {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, ...headers },
    body,
  })
}

function mint(topics: string[], expSeconds: number): Promise<string> {
  return new SignJWT({ topics })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
    .sign(new TextEncoder().encode(SECRET))
}

describe('broadcast', () => {
  it('reaches every SSE and WebSocket connection once, whatever its topics', async () => {
    const { url, backend } = await start()
    const a = await openSse(url, '/sse?topic=a')
    const ab = await openSse(url, '/sse?topic=a,b')
    const env = await openSse(url, '/sse?topic=b&envelope=json')
    const wsB = await openWs(url, '/ws?topic=b')
    const wsAB = await openWs(url, '/ws?topic=a,b')
    const res = await post(url, '/publish', { 'x-sse-topic': '*', 'x-sse-id': 'all-1' }, 'hi')
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: 'all-1', delivered: ['*'], dropped: [], connections: 5 })
    // A topic event after it: once it is there, a duplicate of the broadcast would be too.
    await post(url, '/publish', { 'x-sse-topic': 'a,b', 'x-sse-id': 'after' }, 'x')
    const sse = [a, ab, env]
    await until(() => sse.every((s) => s.frames.some((f) => f.id?.startsWith('after'))), 'after')
    await until(() => [wsB, wsAB].every((w) => w.frames.some((f) => f.id === 'after')), 'ws')
    for (const s of [a, ab]) {
      expect(s.frames.filter((f) => f.topic === '*')).toEqual([
        { event: undefined, id: undefined, topic: '*', data: 'hi' },
      ])
      expect(s.text().indexOf(': connected')).toBeLessThan(s.text().indexOf('data: hi'))
    }
    expect(env.frames.filter((f) => f.topic === '*').map((f) => JSON.parse(f.data))).toEqual([
      { topic: '*', id: 'all-1', event: null, data: 'hi', cursor: null },
    ])
    for (const w of [wsB, wsAB]) {
      expect(w.frames.filter((f) => f.topic === '*')).toEqual([
        { topic: '*', id: 'all-1', event: null, data: 'hi', cursor: null },
      ])
    }
    expect(backend.counters.broadcasts).toBe(1)
    for (const s of [a, ab, env, wsB, wsAB]) s.close()
  })

  it('drops a broadcast when nobody is connected, without reading the body, and counts it', async () => {
    const { url, backend } = await start()
    const { port } = new URL(url)
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(port), '127.0.0.1')
      let buf = ''
      s.setEncoding('utf8')
      s.on('error', reject)
      s.on('data', (c: string) => {
        buf += c
        if (buf.endsWith('}')) {
          s.destroy()
          resolve(buf)
        }
      })
      // Declares 10 MB and sends 10 bytes: only an answer from the headers can come back.
      s.write(
        `POST /publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
          'x-sse-topic: *\r\nx-sse-id: nobody\r\nContent-Length: 10000000\r\n\r\n0123456789',
      )
    })
    expect(answer).toMatch(/^HTTP\/1\.1 202/)
    expect(JSON.parse(answer.slice(answer.indexOf('{')))).toEqual({
      id: 'nobody',
      delivered: [],
      dropped: ['*'],
    })
    expect([backend.counters.broadcasts, backend.counters.dropped]).toEqual([1, 1])
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toContain('sse_gateway_broadcasts_total 1')
  })
})

describe('direct send', () => {
  it('writes to one connection only, SSE or WebSocket; 404 for an unknown id', async () => {
    const { url } = await start()
    const one = await openSse(url, '/sse?topic=d')
    const other = await openSse(url, '/sse?topic=d')
    const ws = await openWs(url, '/ws?topic=d')
    const to = (id: string | undefined, eventId: string, body: string) =>
      post(url, `/admin/api/connections/${id}/events`, { 'x-sse-id': eventId }, body)
    const res = await to(one.connectionId(), 'dm-1', 'just you')
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: 'dm-1', connection: one.connectionId() })
    expect((await to(ws.connectionId(), 'dm-2', 'socket')).status).toBe(202)
    await post(url, '/publish', { 'x-sse-topic': 'd', 'x-sse-id': 'after' }, 'all')
    await until(() => other.frames.some((f) => f.data === 'all'), 'the topic event')
    await until(() => one.frames.some((f) => f.data === 'all'), 'the topic event on one')
    await until(() => ws.frames.some((f) => f.id === 'after'), 'the topic event on ws')
    expect(one.frames.filter((f) => f.data === 'just you')).toEqual([
      { event: undefined, id: undefined, topic: undefined, data: 'just you' },
    ])
    expect(other.frames.some((f) => f.data === 'just you' || f.data === 'socket')).toBe(false)
    expect(ws.frames.filter((f) => f.id === 'dm-2')).toEqual([
      { topic: null, id: 'dm-2', event: null, data: 'socket', cursor: null },
    ])
    expect((await to('nobody-here', 'dm-3', 'x')).status).toBe(404)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toContain('sse_gateway_direct_sends_total 2')
    for (const s of [one, other, ws]) s.close()
  })
})

describe('presence', () => {
  it('counts subscribers (tails aside) and answers 404 once the last one left', async () => {
    const { url } = await start()
    const get = (topic: string) =>
      fetch(`${url}/admin/api/topics/${topic}`, { headers: { authorization: `Bearer ${KEY}` } })
    expect((await get('p')).status).toBe(404)
    const before = Date.now()
    const one = await openSse(url, '/sse?topic=p')
    const two = await openWs(url, '/ws?topic=p,q')
    const tail = await openSse(
      url,
      '/admin/api/topics/p/tail',
      { authorization: `Bearer ${KEY}` },
      'comment',
    )
    const body = (await (await get('p')).json()) as Record<string, unknown>
    expect(body).toMatchObject({ topic: 'p', subscribers: 2 })
    expect((body.nodes as unknown[]).length).toBe(1)
    expect(Date.parse(body.since as string)).toBeGreaterThanOrEqual(before - 1000)
    one.close()
    const poll = async (
      want: (b: { subscribers?: number }, s: number) => boolean,
      what: string,
    ) => {
      for (let i = 0; i < 500; i++) {
        const res = await get('p')
        if (want((await res.json()) as { subscribers?: number }, res.status)) return
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error(`timed out waiting for ${what}`)
    }
    await poll((b) => b.subscribers === 1, 'presence down to 1')
    two.close()
    // The tail of `p` is still open: it does not count.
    await poll((_, s) => s === 404, '404 once the last subscriber left')
    tail.close()
  })
})

describe('private topics', () => {
  it('refuses on the native /sse path: 401 without a token, 403 for another topic, counted', async () => {
    const { url, backend } = await start(PRIVATE)
    const none = await openSse(url, '/sse?topic=private:x')
    expect(none.status).toBe(401)
    expect(JSON.parse(none.body).error.message).toContain('"private:x"')
    const other = await mint(['private:y'], 60)
    const denied = await openSse(url, '/sse?topic=private:x', { authorization: `Bearer ${other}` })
    expect(denied.status).toBe(403)
    expect(JSON.stringify(denied.body)).not.toContain(other)
    const ok = await openSse(url, `/sse?topic=private:y,public&token=${other}`)
    expect(ok.status).toBe(200)
    expect(backend.counters.subscriptionsRefused).toBe(2)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toContain('sse_gateway_subscriptions_refused_total{reason="unauthorized"} 1')
    expect(metrics).toContain('sse_gateway_subscriptions_refused_total{reason="forbidden"} 1')
    ok.close()
  })

  it('ends a live stream when the token expires, gateway.token-expired first (SSE and WebSocket)', async () => {
    const { url } = await start(PRIVATE)
    const token = await mint(['private:*'], 2)
    const sse = await openSse(url, '/sse?topic=private:e', { cookie: `sse_token=${token}` })
    const ws = await openWs(url, `/ws?topic=private:e&token=${token}`)
    expect(await sse.ended).toBe(true)
    const last = sse.frames.at(-1)
    expect(last?.event).toBe('gateway.token-expired')
    expect(last?.id).toBeUndefined()
    expect(JSON.parse(last?.data ?? '{}').topics).toEqual(['private:e'])
    const closed = await ws.closed
    expect(closed).toEqual({ code: 1008, reason: 'token expired' })
    expect(ws.frames.at(-1)?.event).toBe('gateway.token-expired')
  })

  it('never logs a token: refusals on /sse and /ws log the path without its query', async () => {
    const lines: string[] = []
    const record = (obj: object, msg?: string) => lines.push(JSON.stringify([obj, msg]))
    const log: Logger = { debug: record, info: record, warn: record, error: record }
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      API_KEYS: KEY,
      LOG_LEVEL: 'debug',
      ...PRIVATE,
    })
    const gw = await startGateway(config, { log })
    try {
      const token = await mint(['private:other'], 60)
      const sse = await openSse(gw.url, `/sse?topic=private:x&token=${token}`)
      expect(sse.status).toBe(403)
      const ws = await openWs(gw.url, `/ws?topic=private:x&token=${token}`).catch(
        (err: Error) => err.message,
      )
      expect(ws).toBe('HTTP 403')
      expect(lines.filter((l) => l.includes('request refused')).length).toBe(2)
      expect(lines.join('\n')).not.toContain(token)
      expect(lines.join('\n')).not.toContain('token=')
    } finally {
      await gw.close()
    }
  })
})
