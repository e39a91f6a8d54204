import { EventSource } from 'eventsource'
import { expect, it } from 'vitest'
import { publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'

forEachTarget((target) => {
  const sse = (q: string, headers?: Record<string, string>) =>
    SseClient.open(`${target().url}/sse${q}`, headers)

  it('delivers to the single subscriber of a new topic (unicast) with id, event, topic and data', async () => {
    const t = uniqueTopic()
    const sub = await sse(`?topic=${t}`)
    expect(sub.status).toBe(200)
    expect(sub.headers['content-type']).toMatch(/^text\/event-stream/)
    expect(sub.connectionId).toMatch(/^[A-Za-z0-9_-]+$/)
    const res = await publish(target().url, target().apiKey, t, 'evt-1', 'hello', {
      'x-sse-event': 'greeting',
    })
    expect(res).toEqual({
      status: 202,
      body: expect.objectContaining({ id: 'evt-1', delivered: [t], dropped: [] }),
    })
    expect(await sub.waitForEvents(1)).toEqual([
      { id: 'evt-1', event: 'greeting', topic: t, data: 'hello' },
    ])
    sub.close()
  })

  it('delivers to every subscriber of an existing topic (multicast), header or query', async () => {
    const t = uniqueTopic()
    const subs = await Promise.all([
      sse(`?topic=${t}`),
      sse('', { 'x-sse-topic': t }),
      sse(`?topic=${encodeURIComponent(` ${t} `)}`),
    ])
    await publish(target().url, target().apiKey, t, 'm1', 'to all')
    for (const s of subs) {
      expect((await s.waitForEvents(1))[0]).toMatchObject({ id: 'm1', topic: t, data: 'to all' })
      s.close()
    }
  })

  it('tags each event of a multi-topic subscription with its topic, and sends one frame per topic', async () => {
    const a = uniqueTopic('a')
    const b = uniqueTopic('b')
    const sub = await sse(`?topic=${a},${b}`)
    await publish(target().url, target().apiKey, a, '1', 'for a')
    await sub.waitForEvents(1)
    await publish(target().url, target().apiKey, b, '2', 'for b')
    await sub.waitForEvents(2)
    await publish(target().url, target().apiKey, `${a},${b}`, '3', 'for both')
    const events = await sub.waitForEvents(4)
    expect(events.slice(0, 2)).toEqual([
      { id: '1', event: undefined, topic: a, data: 'for a' },
      { id: '2', event: undefined, topic: b, data: 'for b' },
    ])
    expect(
      events
        .slice(2)
        .map((e) => e.topic)
        .sort(),
    ).toEqual([a, b].sort())
    expect(events.slice(2).every((e) => e.id === '3' && e.data === 'for both')).toBe(true)
    sub.close()
  })

  it('delivers once to a connection that names a topic several times', async () => {
    const t = uniqueTopic()
    const sub = await sse(`?topic=${t},${t},%20${t}`)
    const marker = uniqueTopic('marker')
    const other = await sse(`?topic=${t},${marker}`)
    await publish(target().url, target().apiKey, t, 'once', 'x')
    await publish(target().url, target().apiKey, marker, 'after', 'y')
    await other.waitForEvents(2)
    await publish(target().url, target().apiKey, t, 'second', 'z')
    await sub.waitForEvents(2)
    expect(sub.events.map((e) => e.id)).toEqual(['once', 'second'])
    sub.close()
    other.close()
  })

  it('frames a multi-line UTF-8 body as several data lines and keeps it intact', async () => {
    const t = uniqueTopic()
    const sub = await sse(`?topic=${t}`)
    const body = 'line one\nline two\r\nline three: ✓ 日本語 🚀\n\nend'
    await publish(target().url, target().apiKey, t, 'ml', body)
    expect((await sub.waitForEvents(1))[0]?.data).toBe(
      'line one\nline two\nline three: ✓ 日本語 🚀\n\nend',
    )
    sub.close()
  })

  it('keeps the order of one publisher’s events to one topic', async () => {
    const t = uniqueTopic()
    const sub = await sse(`?topic=${t}`)
    for (let i = 0; i < 40; i++) await publish(target().url, target().apiKey, t, `o${i}`, `${i}`)
    const events = await sub.waitForEvents(40)
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => `o${i}`))
    sub.close()
  })

  it('delivers JSON frames over WebSocket, several topics on one socket', async () => {
    const a = uniqueTopic('wa')
    const b = uniqueTopic('wb')
    const ws = await WsClient.open(`${target().url.replace(/^http/, 'ws')}/ws?topic=${a},${b}`)
    expect(ws.connectionId).toBeTruthy()
    // The 101 comes before the topics are registered everywhere; `gateway.connected` after.
    await ws.waitForGatewayEvents(1)
    await publish(target().url, target().apiKey, a, 'w1', 'one\ntwo', { 'x-sse-event': 'e' })
    await ws.waitForEvents(1)
    await publish(target().url, target().apiKey, b, 'w2', '{"json":true}')
    expect(await ws.waitForEvents(2)).toEqual([
      { topic: a, id: 'w1', event: 'e', data: 'one\ntwo' },
      { topic: b, id: 'w2', event: null, data: '{"json":true}' },
    ])
    ws.close()
  })

  it('reaches SSE and WebSocket subscribers of the same topic alike', async () => {
    const t = uniqueTopic()
    const s = await sse(`?topic=${t}`)
    const w = await WsClient.open(`${target().url.replace(/^http/, 'ws')}/ws?topic=${t}`)
    await w.waitForGatewayEvents(1)
    await publish(target().url, target().apiKey, t, 'mix', 'both')
    expect((await s.waitForEvents(1))[0]?.data).toBe('both')
    expect((await w.waitForEvents(1))[0]?.data).toBe('both')
    s.close()
    w.close()
  })

  it('lets a browser EventSource tell topics apart with ?envelope=json', async () => {
    const a = uniqueTopic('ea')
    const b = uniqueTopic('eb')
    const es = new EventSource(`${target().url}/sse?topic=${a},${b}&envelope=json`)
    const got: Array<{ type: string; lastEventId: string; data: unknown }> = []
    // `open` fires on the headers; `gateway.connected` once the topics are registered everywhere.
    const opened = new Promise<void>((resolve, reject) => {
      es.addEventListener('gateway.connected', () => resolve())
      es.onerror = () => reject(new Error('EventSource failed to open'))
    })
    const two = new Promise<void>((resolve) => {
      const onEvent = (e: MessageEvent) => {
        got.push({ type: e.type, lastEventId: e.lastEventId, data: JSON.parse(e.data) })
        if (got.length === 2) resolve()
      }
      es.addEventListener('message', onEvent)
      es.addEventListener('update', onEvent)
    })
    await opened
    await publish(target().url, target().apiKey, a, 'x1', 'A')
    await publish(target().url, target().apiKey, b, 'x2', 'B', { 'x-sse-event': 'update' })
    await Promise.race([
      two,
      new Promise((_, rej) => setTimeout(() => rej(new Error('no events')), 10_000)),
    ])
    es.close()
    // The publisher's id comes first in lastEventId, then `~` and the resume cursor, which the
    // envelope carries too.
    const cursors = got.map((g) => (g.data as { cursor: string }).cursor)
    expect(got).toEqual([
      {
        type: 'message',
        lastEventId: `x1~${cursors[0]}`,
        data: { topic: a, id: 'x1', event: null, data: 'A', cursor: cursors[0] },
      },
      {
        type: 'update',
        lastEventId: `x2~${cursors[1]}`,
        data: { topic: b, id: 'x2', event: 'update', data: 'B', cursor: cursors[1] },
      },
    ])
    expect(cursors[0]).toMatch(/^1(\.[0-9a-z]+-[0-9a-z]+-[0-9a-z]+){2}$/)
  })

  it('sends the connect comment and heartbeat comments on an idle stream', async () => {
    const sub = await sse(`?topic=${uniqueTopic()}`)
    expect(sub.comments[0]).toMatch(/connected/)
    const wait = 2 * (target().heartbeatMs ?? 1_000) + 5_000
    await sub.until(() => sub.comments.some((c) => /heartbeat/.test(c)), wait, 'a heartbeat')
    sub.close()
  })
})
