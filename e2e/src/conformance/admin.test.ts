import { expect, it } from 'vitest'
import { admin, eventually, listAll, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'

interface Conn {
  id: string
  transport: string
  topics: string[]
  node: string
  connectedAt: string
  remoteAddress: string | null
  userAgent: string | null
  eventsSent: number
}
interface TopicItem {
  topic: string
  subscribers: number
}

forEachTarget((target) => {
  const key = () => target().apiKey
  const topicsNow = async () =>
    (await listAll<TopicItem>(target().url, key(), '/topics', 500)).items

  it('removes a topic from every listing when its last connection closes', async () => {
    const t = uniqueTopic('clean')
    const a = await SseClient.open(`${target().url}/sse?topic=${t}`)
    const b = await WsClient.open(`${target().url.replace(/^http/, 'ws')}/ws?topic=${t}`)
    await eventually(
      async () => (await topicsNow()).some((x) => x.topic === t && x.subscribers === 2),
      10_000,
      `${t} listed with 2 subscribers`,
    )
    a.close()
    await eventually(
      async () => (await topicsNow()).some((x) => x.topic === t && x.subscribers === 1),
      10_000,
      `${t} down to 1`,
    )
    b.close()
    await eventually(
      async () => !(await topicsNow()).some((x) => x.topic === t),
      15_000,
      `${t} gone`,
    )
    const conns = await listAll<Conn>(target().url, key(), `/connections?topic=${t}`, 500)
    expect(conns.items).toEqual([])
    const res = await publish(target().url, key(), t, 'late', 'x')
    expect(res.body.dropped).toEqual([t])
  })

  it('lists a connection with the fields operators need, under the id from x-sse-connection-id', async () => {
    const t = uniqueTopic('info')
    const sub = await SseClient.open(`${target().url}/sse?topic=${t}`, {
      'user-agent': 'conformance/1.0',
    })
    await publish(target().url, key(), t, 'c1', 'x')
    await sub.waitForEvents(1)
    let item: Conn | undefined
    await eventually(
      async () => {
        item = (await listAll<Conn>(target().url, key(), `/connections?topic=${t}`, 100)).items[0]
        return item !== undefined && item.eventsSent >= 1
      },
      10_000,
      'the connection listed with its event count',
    )
    expect(item).toMatchObject({
      id: sub.connectionId,
      transport: 'sse',
      topics: [t],
      userAgent: 'conformance/1.0',
    })
    expect(typeof item?.node).toBe('string')
    expect(Number.isNaN(Date.parse(item?.connectedAt ?? ''))).toBe(false)
    expect(item?.remoteAddress).toBeTruthy()
    sub.close()
  })

  it('pages 600 live connections so that each is listed exactly once, while others come and go', async () => {
    const t = uniqueTopic('many')
    const subs: SseClient[] = []
    for (let i = 0; i < 600; i += 50) {
      subs.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, () => SseClient.open(`${target().url}/sse?topic=${t}`)),
        )),
      )
    }
    const ids = new Set(subs.map((s) => s.connectionId))
    expect(ids.size).toBe(600)
    await eventually(
      async () =>
        (await listAll<Conn>(target().url, key(), `/connections?topic=${t}`, 500)).items.length ===
        600,
      20_000,
      '600 connections listed',
    )
    const churn: SseClient[] = []
    const { items, pages } = await listAll<Conn>(
      target().url,
      key(),
      `/connections?topic=${t}`,
      100,
      async (page) => {
        // Newcomers and leavers between pages must not make a steady connection appear twice or vanish.
        churn.push(await SseClient.open(`${target().url}/sse?topic=${t}`))
        if (page === 2) churn.shift()?.close()
      },
    )
    expect(pages).toBeGreaterThanOrEqual(6)
    const listed = items.map((i) => i.id)
    expect(new Set(listed).size).toBe(listed.length)
    for (const id of ids) expect(listed).toContain(id)
    const clamped = await admin<{ items: Conn[]; nextCursor: string | null }>(
      target().url,
      key(),
      `/connections?topic=${t}&limit=100000`,
    )
    expect(clamped.status).toBe(200)
    expect(clamped.body.items).toHaveLength(500)
    expect(clamped.body.nextCursor).toEqual(expect.any(String))
    for (const s of [...subs, ...churn]) s.close()
  })

  it('sorts the connection listing on the gateway, across pages: oldest, newest, most events sent', async () => {
    const t = uniqueTopic('sorted')
    // Connection i gets i events on its own topic, so each has a different count.
    const subs: SseClient[] = []
    for (let i = 0; i < 5; i++)
      subs.push(await SseClient.open(`${target().url}/sse?topic=${t},${t}-${i}`))
    for (const [i, sub] of subs.entries()) {
      for (let n = 0; n < i; n++) await publish(target().url, key(), `${t}-${i}`, `e${i}-${n}`, 'x')
      await sub.waitForEvents(i)
    }
    const ids = subs.map((s) => s.connectionId)
    const busiestFirst = [...ids].reverse()
    const list = async (q: string) =>
      (await listAll<Conn>(target().url, key(), `/connections?topic=${t}&${q}`, 2)).items
    let byEvents: Conn[] = []
    await eventually(
      async () => {
        byEvents = await list('sort=events')
        return byEvents.map((c) => c.id).join() === busiestFirst.join()
      },
      15_000,
      'the busiest connection first, page after page',
    )
    expect(byEvents.map((c) => c.eventsSent)).toEqual([4, 3, 2, 1, 0])
    // Combined with a search: the same order, fewer rows.
    const searched = await list(`sort=events&topicPrefix=${t}-`)
    expect(searched.map((c) => c.id)).toEqual(busiestFirst)
    const oldest = await list('sort=oldest')
    expect(oldest.map((c) => c.id)).toEqual((await list('')).map((c) => c.id))
    expect(new Set(oldest.map((c) => c.id))).toEqual(new Set(ids))
    const newest = await list('sort=newest')
    expect(new Set(newest.map((c) => c.id))).toEqual(new Set(ids))
    expect(newest).toHaveLength(5)
    const times = newest.map((c) => Date.parse(c.connectedAt))
    expect(times).toEqual([...times].sort((a, b) => b - a))
    const bad = await admin<{ error: { message: string } }>(
      target().url,
      key(),
      '/connections?sort=loudest',
    )
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('"loudest"')
    for (const s of subs) s.close()
  })

  it('filters the topic listing by name prefix, across pages', async () => {
    const base = uniqueTopic('pfx')
    const mine = [`${base}/a`, `${base}/b`, `${base}/c`]
    const subs = await Promise.all(
      [...mine, `${base}-other`].map((t) =>
        SseClient.open(`${target().url}/sse?topic=${encodeURIComponent(t)}`),
      ),
    )
    const path = `/topics?prefix=${encodeURIComponent(`${base}/`)}`
    await eventually(
      async () => (await listAll<TopicItem>(target().url, key(), path, 500)).items.length === 3,
      10_000,
      'three topics under the prefix',
    )
    const { items, pages } = await listAll<TopicItem>(target().url, key(), path, 1)
    expect(items.map((i) => i.topic)).toEqual(mine)
    expect(pages).toBe(3)
    const bad = await admin<{ error: { message: string } }>(
      target().url,
      key(),
      '/topics?prefix=a%20b',
    )
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/prefix "a b"/)
    for (const s of subs) s.close()
  })

  it('tails a topic: published events and drops, without counting as a subscriber', async () => {
    const t = uniqueTopic('tail')
    const tail = await SseClient.open(
      `${target().url}/admin/api/topics/${encodeURIComponent(t)}/tail`,
      {
        authorization: `Bearer ${key()}`,
      },
    )
    expect(tail.status).toBe(200)
    const dropped = await publish(target().url, key(), t, 'nobody-yet', 'secret body')
    expect(dropped.body.dropped).toEqual([t])
    const [drop] = await tail.waitForEvents(1)
    expect(drop?.event).toBe('drop')
    expect(JSON.parse(drop?.data ?? '{}')).toMatchObject({
      topic: t,
      id: 'nobody-yet',
      dropped: true,
    })
    expect(drop?.data).not.toContain('secret body')
    const sub = await SseClient.open(`${target().url}/sse?topic=${t}`)
    await publish(target().url, key(), t, 'seen', 'hello tail', { 'x-sse-event': 'note' })
    const [, pub] = await tail.waitForEvents(2)
    expect(pub?.event).toBe('publish')
    expect(JSON.parse(pub?.data ?? '{}')).toMatchObject({
      topic: t,
      id: 'seen',
      event: 'note',
      data: 'hello tail',
    })
    sub.close()
    tail.close()
  })

  it('refuses a tail without a key', async () => {
    const res = await fetch(`${target().url}/admin/api/topics/x/tail`)
    expect(res.status).toBe(401)
  })

  it('disconnects one connection by id and leaves the others alone', async () => {
    const t = uniqueTopic('kick')
    const victim = await SseClient.open(`${target().url}/sse?topic=${t}`)
    const bystander = await SseClient.open(`${target().url}/sse?topic=${t}`)
    const ws = await WsClient.open(`${target().url.replace(/^http/, 'ws')}/ws?topic=${t}`)
    const del = await admin(target().url, key(), `/connections/${victim.connectionId}`, {
      method: 'DELETE',
    })
    expect(del.status).toBe(200)
    await victim.waitForEnd()
    const delWs = await admin(target().url, key(), `/connections/${ws.connectionId}`, {
      method: 'DELETE',
    })
    expect(delWs.status).toBe(200)
    await ws.until(() => ws.closed, 10_000, 'the WebSocket to close')
    await publish(target().url, key(), t, 'after-kick', 'x')
    expect((await bystander.waitForEvents(1))[0]?.id).toBe('after-kick')
    const again = await admin<{ error: { code: string } }>(
      target().url,
      key(),
      `/connections/${victim.connectionId}`,
      { method: 'DELETE' },
    )
    expect(again.status).toBe(404)
    expect(again.body.error.code).toBe('not_found')
    bystander.close()
  })

  it('reports stats that follow connections and publishes', async () => {
    type S = {
      connections: number
      topics: number
      published: number
      delivered: number
      dropped: number
      nodes: unknown[]
    }
    const before = (await admin<S>(target().url, key(), '/stats')).body
    const t = uniqueTopic('stats')
    const sub = await SseClient.open(`${target().url}/sse?topic=${t}`)
    await publish(target().url, key(), t, 's1', 'x')
    await publish(target().url, key(), uniqueTopic('nobody'), 's2', 'x')
    await sub.waitForEvents(1)
    await eventually(
      async () => {
        const after = (await admin<S>(target().url, key(), '/stats')).body
        return (
          after.published >= before.published + 2 &&
          after.delivered >= before.delivered + 1 &&
          after.dropped >= before.dropped + 1 &&
          after.connections >= 1
        )
      },
      10_000,
      'stats to count the publishes',
    )
    const after = (await admin<S>(target().url, key(), '/stats')).body
    expect(after.nodes.length).toBeGreaterThanOrEqual(1)
    sub.close()
  })

  it('answers health and readiness', async () => {
    const h = await fetch(`${target().url}/healthz`)
    expect(h.status).toBe(200)
    const r = await fetch(`${target().url}/readyz`)
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ status: 'ready' })
  })
})
