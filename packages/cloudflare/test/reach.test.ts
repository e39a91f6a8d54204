// Broadcast, direct send, presence and private topics on Cloudflare (issue #16): through the
// Worker, with SSE connections of one and of several topics (merged by the Worker from several
// topic objects) and hibernatable WebSockets homed in one object and members of others.
import { exports } from 'cloudflare:workers'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { collect, eventually, sseClient } from './helpers.ts'

const KEY = 'test-key'
const SECRET = 'unit-test-subscriber-token-secret-0123456789'
const auth = { authorization: `Bearer ${KEY}` }
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`http://gateway${path}`, init))

const publish = (topic: string, id: string, body: string, event?: string) =>
  call('/publish', {
    method: 'POST',
    headers: {
      ...auth,
      'x-sse-topic': topic,
      'x-sse-id': id,
      ...(event ? { 'x-sse-event': event } : {}),
    },
    body,
  })

const sendTo = (connection: string, id: string, body: string) =>
  call(`/admin/api/connections/${connection}/events`, {
    method: 'POST',
    headers: { ...auth, 'x-sse-id': id },
    body,
  })

async function sse(query: string) {
  const res = await call(`/sse?${query}`)
  expect(res.status).toBe(200)
  const c = sseClient(res)
  await c.until((e) => e.some((f) => f.event === 'gateway.connected'), 'the opening')
  return c
}

async function socket(query: string) {
  const res = await call(`/ws?${query}`, { headers: { upgrade: 'websocket' } })
  expect(res.status).toBe(101)
  const ws = res.webSocket as WebSocket
  ws.accept()
  const got = collect(ws)
  await got.wait(1)
  const id = (JSON.parse(JSON.parse(got.messages[0] as string).data) as { connectionId: string })
    .connectionId
  return { ws, got, id }
}

interface StatsBody {
  broadcasts: number
  directSends: number
  subscriptionsRefused: number
}
const stats = async () =>
  (await (await call('/admin/api/stats', { headers: auth })).json()) as StatsBody

const mint = (topics: string[], expSeconds: number) =>
  new SignJWT({ topics })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
    .sign(new TextEncoder().encode(SECRET))

describe('broadcast', () => {
  it('is dropped without a connection anywhere', async () => {
    const res = await publish('*', 'nobody', 'x')
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ id: 'nobody', delivered: [], dropped: ['*'] })
  })

  it('reaches every SSE and WebSocket connection once, whatever its topics', async () => {
    const one = await sse('topic=bc-a')
    const both = await sse('topic=bc-a,bc-b') // merged by the Worker from two topic objects
    const env2 = await sse('topic=bc-b&envelope=json')
    const ws = await socket('topic=bc-b')
    const wsBoth = await socket('topic=bc-a,bc-b') // homed in bc-a, a member of bc-b
    const first = await publish('*', 'all-1', 'hello', 'notice')
    expect(await first.json()).toEqual({
      id: 'all-1',
      delivered: ['*'],
      dropped: [],
      connections: 5,
    })
    // A second broadcast: once it has arrived, a duplicate of the first would have too.
    await publish('*', 'all-2', 'again')
    for (const c of [one, both, env2]) {
      await c.until((e) => e.some((f) => f.topic === '*' && f.data?.includes('again')), 'two')
    }
    for (const c of [one, both]) {
      expect(c.text).toContain('event: notice\ntopic: *\ndata: hello\n\n')
      expect(c.events().filter((f) => f.topic === '*')).toEqual([
        { event: 'notice', topic: '*', data: 'hello' },
        { topic: '*', data: 'again' },
      ])
    }
    expect(
      env2
        .events()
        .filter((f) => f.topic === '*')
        .map((f) => JSON.parse(f.data as string)),
    ).toEqual([
      { topic: '*', id: 'all-1', event: 'notice', data: 'hello', cursor: null },
      { topic: '*', id: 'all-2', event: null, data: 'again', cursor: null },
    ])
    for (const s of [ws, wsBoth]) {
      const frames = (await s.got.wait(3)).slice(1).map((m) => JSON.parse(m))
      expect(frames).toEqual([
        { topic: '*', id: 'all-1', event: 'notice', data: 'hello', cursor: null },
        { topic: '*', id: 'all-2', event: null, data: 'again', cursor: null },
      ])
    }
    // A topic event afterwards is each socket's next frame: no third broadcast frame came.
    await publish('bc-b', 'after', 'topic event')
    for (const s of [ws, wsBoth]) {
      const frames = (await s.got.wait(4)).map((m) => JSON.parse(m))
      expect(frames[3]).toMatchObject({ topic: 'bc-b', id: 'after' })
    }
    await eventually(async () => (await stats()).broadcasts >= 3, 'the broadcasts counted')
    for (const c of [one, both, env2]) await c.close()
    for (const s of [ws, wsBoth]) s.ws.close(1000, 'bye')
  })
})

describe('direct send', () => {
  it('writes one event to one connection where it lives, and 404s an unknown id', async () => {
    const multi = await sse('topic=dm-a,dm-b')
    const other = await sse('topic=dm-b')
    const ws = await socket('topic=dm-b,dm-a')
    const sent = await sendTo(multi.id, 'dm-1', 'just you')
    expect(sent.status).toBe(202)
    expect(await sent.json()).toEqual({ id: 'dm-1', connection: multi.id })
    await multi.until((e) => e.some((f) => f.data === 'just you'), 'the direct send')
    expect(multi.text).toContain('\ndata: just you\n\n')
    expect((await sendTo(ws.id, 'dm-2', 'to the socket')).status).toBe(202)
    expect(JSON.parse((await ws.got.wait(2))[1] as string)).toEqual({
      topic: null,
      id: 'dm-2',
      event: null,
      data: 'to the socket',
      cursor: null,
    })
    // Only the addressee got it, once: a topic event afterwards is everyone's next event.
    await publish('dm-b', 'after', 'for all')
    await other.until((e) => e.some((f) => f.data === 'for all'), 'the topic event')
    await multi.until((e) => e.some((f) => f.data === 'for all'), 'the topic event')
    expect(other.events().filter((f) => f.event !== 'gateway.connected')).toHaveLength(1)
    expect(multi.events().filter((f) => f.data === 'just you')).toHaveLength(1)
    const gone = await sendTo('no-such-connection', 'dm-3', 'x')
    expect(gone.status).toBe(404)
    await eventually(async () => (await stats()).directSends >= 2, 'the direct sends counted')
    for (const c of [multi, other]) await c.close()
    ws.ws.close(1000, 'bye')
  })
})

describe('presence', () => {
  it('counts a topic subscribers of every kind until the last one leaves', async () => {
    expect((await call('/admin/api/topics/pr-t', { headers: auth })).status).toBe(404)
    const before = Date.now()
    const a = await sse('topic=pr-t')
    const b = await sse('topic=pr-other,pr-t')
    const member = await socket('topic=pr-other,pr-t') // homed in pr-other
    const res = await call('/admin/api/topics/pr-t', { headers: auth })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { since: string }
    expect(body).toEqual({
      topic: 'pr-t',
      subscribers: 3,
      nodes: [{ node: 'cloudflare', subscribers: 3 }],
      since: expect.any(String),
    })
    expect(Date.parse(body.since)).toBeGreaterThanOrEqual(before - 1000)
    await a.close()
    await b.close()
    member.ws.close(1000, 'bye')
    await eventually(
      async () => (await call('/admin/api/topics/pr-t', { headers: auth })).status === 404,
      'presence to end with the last subscriber',
    )
  })
})

describe('private topics', () => {
  it('refuses a missing or insufficient token and counts the refusals', async () => {
    const before = (await stats()).subscriptionsRefused
    const none = await call('/sse?topic=private:x')
    expect(none.status).toBe(401)
    const other = await call(`/sse?topic=private:x&token=${await mint(['private:y'], 60)}`)
    expect(other.status).toBe(403)
    await eventually(
      async () => (await stats()).subscriptionsRefused >= before + 2,
      'the refusals counted',
    )
    const metrics = await (await call('/metrics', { headers: auth })).text()
    expect(metrics).toMatch(/sse_gateway_subscriptions_refused_total\{reason="forbidden"\} [1-9]/)
  })

  it('ends SSE streams (one topic and merged) when the token expires, token-expired first', async () => {
    const token = await mint(['private:exp-*'], 2)
    const single = await sse(`topic=private:exp-1&token=${token}`)
    const merged = await sse(`topic=private:exp-2,exp-public&token=${token}`)
    for (const c of [single, merged]) {
      // `until` fails if the stream ends first: it must end right after this event.
      const got = await c.until(
        (e) => e.some((f) => f.event === 'gateway.token-expired'),
        'gateway.token-expired',
        8_000,
      )
      const ev = got.find((f) => f.event === 'gateway.token-expired')
      expect(ev?.id).toBeUndefined()
      const data = JSON.parse(ev?.data as string) as { topics: string[]; expiredAt: string }
      expect(data.topics).toEqual([c === single ? 'private:exp-1' : 'private:exp-2'])
      expect(Date.parse(data.expiredAt)).toBeLessThanOrEqual(Date.now())
      for (;;) if ((await c.reader.read()).done) break // then the stream ends
    }
    // Neither stream is listed any more, not even the merged one's public topic.
    await eventually(
      async () => (await call('/admin/api/topics/exp-public', { headers: auth })).status === 404,
      'the merged stream to let go of its other topic',
    )
  })

  it('closes a hibernatable WebSocket with 1008 when its token expires, token-expired first', async () => {
    const token = await mint(['private:wexp'], 2)
    const ws = await socket(`topic=private:wexp,wexp-public&token=${token}`)
    const closed = new Promise<number>((resolve) =>
      ws.ws.addEventListener('close', (e) => resolve(e.code)),
    )
    await eventually(
      async () => ws.got.messages.some((m) => m.includes('gateway.token-expired')),
      'gateway.token-expired',
      8_000,
    )
    const frame = JSON.parse(ws.got.messages.at(-1) as string)
    expect(frame).toMatchObject({ topic: null, id: null, event: 'gateway.token-expired' })
    expect(JSON.parse(frame.data).topics).toEqual(['private:wexp'])
    expect(await closed).toBe(1008)
  })
})
