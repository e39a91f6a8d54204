import { SignJWT, exportSPKI, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.ts'
import { EncodedMessage } from './event.ts'
import { loadTokenConfig } from './private-topics.ts'
import { recordingBackend, untouchableBody } from './test-backend.ts'

const config = { apiKeys: ['k'], maxTopicsPerConnection: 4, maxBodyBytes: 16, corsOrigins: ['*'] }
const SECRET = 'a-secret-of-at-least-thirty-two-characters'

function post(path: string, headers: Record<string, string>, body?: BodyInit) {
  return new Request(`http://gw${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer k', ...headers },
    body,
    // @ts-expect-error Node's fetch needs duplex for stream bodies
    duplex: 'half',
  })
}

describe('broadcast (x-sse-topic: *)', () => {
  it('reaches the backend once, topic *, and answers which connections it reached', async () => {
    const { backend, broadcasts } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      post('/publish', { 'x-sse-topic': '*', 'x-sse-id': 'b1', 'x-sse-event': 'notice' }, 'hi'),
    )
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: 'b1', delivered: ['*'], dropped: [], connections: 1 })
    expect(broadcasts).toEqual([{ topic: '*', id: 'b1', event: 'notice', data: 'hi' }])
  })

  it('is dropped without reading the body when nobody is connected', async () => {
    const { backend, broadcasts, dropped } = recordingBackend(false)
    const app = createGatewayApp({ backend, config })
    const res = await app.fetch(
      post('/publish', { 'x-sse-topic': '*', 'x-sse-id': 'b2' }, untouchableBody()),
    )
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: 'b2', delivered: [], dropped: ['*'] })
    expect(broadcasts).toEqual([])
    expect(dropped).toEqual([{ topics: ['*'], id: 'b2' }])
  })

  it('refuses * inside a topic list and a reserved event type', async () => {
    const app = createGatewayApp({ backend: recordingBackend().backend, config })
    const mixed = await app.fetch(post('/publish', { 'x-sse-topic': '*,a', 'x-sse-id': 'x' }, 'd'))
    expect(mixed.status).toBe(400)
    expect(((await mixed.json()) as { error: { message: string } }).error.message).toContain('"*"')
    const reserved = await app.fetch(
      post('/publish', { 'x-sse-topic': '*', 'x-sse-id': 'x', 'x-sse-event': 'gateway.x' }, 'd'),
    )
    expect(reserved.status).toBe(400)
  })

  it('frames: topic *, no id line; the envelope and WebSocket frame carry the id', () => {
    const m = new EncodedMessage({ topic: '*', id: 'b1', event: 'notice', data: 'a\nb' })
    expect(new TextDecoder().decode(m.sse())).toBe('event: notice\ntopic: *\ndata: a\ndata: b\n\n')
    expect(JSON.parse(new TextDecoder().decode(m.json()))).toEqual({
      topic: '*',
      id: 'b1',
      event: 'notice',
      data: 'a\nb',
      cursor: null,
    })
    const direct = new EncodedMessage({ id: 'd1', data: 'x' })
    expect(new TextDecoder().decode(direct.sse())).toBe('data: x\n\n')
    expect(JSON.parse(new TextDecoder().decode(direct.json())).topic).toBeNull()
  })
})

describe('direct send and presence', () => {
  it('POST /admin/api/connections/{id}/events: 202 when it exists, 404 otherwise', async () => {
    const { backend, sent } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    const ok = await app.fetch(
      post('/admin/api/connections/c1/events', { 'x-sse-id': 'd1', 'x-sse-event': 'ping' }, 'yo'),
    )
    expect(ok.status).toBe(202)
    expect(await ok.json()).toEqual({ id: 'd1', connection: 'c1' })
    expect(sent).toEqual([{ connection: 'c1', message: { id: 'd1', event: 'ping', data: 'yo' } }])
    const missing = await app.fetch(
      post('/admin/api/connections/nope/events', { 'x-sse-id': 'd2' }, 'yo'),
    )
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      'nope',
    )
    const noKey = await app.fetch(
      new Request('http://gw/admin/api/connections/c1/events', {
        method: 'POST',
        headers: { 'x-sse-id': 'd3' },
        body: 'x',
      }),
    )
    expect(noKey.status).toBe(401)
    const tooBig = await app.fetch(
      post('/admin/api/connections/c1/events', { 'x-sse-id': 'd4' }, 'x'.repeat(17)),
    )
    expect(tooBig.status).toBe(413)
  })

  it('GET /admin/api/topics/{topic}: counts per node, 404 without subscribers', async () => {
    const app = createGatewayApp({ backend: recordingBackend().backend, config })
    const get = (p: string) =>
      app.fetch(new Request(`http://gw${p}`, { headers: { authorization: 'Bearer k' } }))
    const live = await get('/admin/api/topics/live')
    expect(live.status).toBe(200)
    expect(await live.json()).toMatchObject({ topic: 'live', subscribers: 1 })
    expect((await get('/admin/api/topics/other')).status).toBe(404)
    expect((await get('/admin/api/topics/bad%20name')).status).toBe(400)
    // A path ending in /tail is still the tail route.
    const tail = await get('/admin/api/topics/live/tail')
    expect([tail.status, await tail.text()]).toEqual([200, 'tail'])
  })
})

describe('private topics', () => {
  const tokens = loadTokenConfig({ PRIVATE_TOPICS: 'user:*,secret', TOKEN_SECRET: SECRET })
  const key = new TextEncoder().encode(SECRET)
  const mint = (topics: unknown, exp: number | string = '1h', secret = key) =>
    new SignJWT({ topics }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(secret)

  async function subscribe(query: string, headers: Record<string, string> = {}) {
    const { backend, subscribed, refused } = recordingBackend()
    const app = createGatewayApp({ backend, config: { ...config, tokens } })
    const res = await app.fetch(new Request(`http://gw/sse?${query}`, { headers }))
    const body = res.status === 200 ? null : ((await res.json()) as { error: { message: string } })
    return { res, body, subscribed, refused }
  }

  it('leaves public topics alone and needs no setting by default', async () => {
    expect((await subscribe('topic=public')).res.status).toBe(200)
    const { backend } = recordingBackend()
    const app = createGatewayApp({ backend, config })
    expect((await app.fetch(new Request('http://gw/sse?topic=user:1'))).status).toBe(200)
  })

  it('answers 401 naming the topic without a token, and counts it', async () => {
    const { res, body, refused } = await subscribe('topic=public,user:42')
    expect(res.status).toBe(401)
    expect(body?.error.message).toContain('"user:42"')
    expect(refused).toEqual(['unauthorized'])
  })

  it('accepts a token from ?token=, Authorization: Bearer and the cookie', async () => {
    const t = await mint(['user:42'])
    const q = await subscribe(`topic=user:42&token=${t}`)
    expect(q.res.status).toBe(200)
    expect(q.subscribed[0]?.privateTopics).toEqual(['user:42'])
    expect(q.subscribed[0]?.expiresAt).toBeGreaterThan(Date.now())
    expect((await subscribe('topic=user:42', { authorization: `Bearer ${t}` })).res.status).toBe(
      200,
    )
    expect((await subscribe('topic=user:42', { cookie: `a=b; sse_token=${t}` })).res.status).toBe(
      200,
    )
  })

  it('grants by prefix and refuses another topic with 403', async () => {
    const t = await mint(['user:42:*'])
    expect((await subscribe(`topic=user:42:inbox&token=${t}`)).res.status).toBe(200)
    const other = await subscribe(`topic=user:43&token=${t}`)
    expect(other.res.status).toBe(403)
    expect(other.body?.error.message).toContain('"user:43"')
    expect(other.refused).toEqual(['forbidden'])
  })

  it('refuses a bad signature, an expired token and one without exp with 401', async () => {
    const forged = await mint(['secret'], '1h', new TextEncoder().encode('x'.repeat(40)))
    const bad = await subscribe(`topic=secret&token=${forged}`)
    expect(bad.res.status).toBe(401)
    expect(bad.body?.error.message).toContain('signature')
    expect(bad.body?.error.message).not.toContain(forged)
    const old = await mint(['secret'], Math.floor(Date.now() / 1000) - 60)
    const expired = await subscribe(`topic=secret&token=${old}`)
    expect(expired.res.status).toBe(401)
    expect(expired.body?.error.message).toContain('expired at')
    const forever = await new SignJWT({ topics: ['secret'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(key)
    expect((await subscribe(`topic=secret&token=${forever}`)).res.status).toBe(401)
    expect((await subscribe('topic=secret&token=not.a.jwt')).res.status).toBe(401)
  })

  it('verifies tokens signed with a public key (ES256)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const pem = await exportSPKI(publicKey)
    const es = loadTokenConfig({ PRIVATE_TOPICS: '*', TOKEN_PUBLIC_KEY: pem })
    const t = await new SignJWT({ topics: ['*'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('5m')
      .sign(privateKey)
    const app = createGatewayApp({
      backend: recordingBackend().backend,
      config: { ...config, tokens: es },
    })
    expect((await app.fetch(new Request(`http://gw/sse?topic=any&token=${t}`))).status).toBe(200)
    expect((await app.fetch(new Request('http://gw/sse?topic=any'))).status).toBe(401)
  })

  it('refuses settings that cannot work, naming the variable', () => {
    expect(() => loadTokenConfig({ PRIVATE_TOPICS: 'a' })).toThrow(/TOKEN_SECRET/)
    expect(() => loadTokenConfig({ PRIVATE_TOPICS: 'a', TOKEN_SECRET: 'short' })).toThrow(
      /TOKEN_SECRET/,
    )
    expect(() => loadTokenConfig({ PRIVATE_TOPICS: 'a b', TOKEN_SECRET: SECRET })).toThrow(
      /PRIVATE_TOPICS/,
    )
  })
})
