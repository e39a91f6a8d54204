// Reach everyone, one, or ask who is there (issue #16): broadcast with `x-sse-topic: *`, direct
// send to one connection, presence of a topic. On a cluster the subscribers sit on different
// nodes from the publisher, so every path crosses nodes.
import net from 'node:net'
import { expect, it } from 'vitest'
import { admin, eventually, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'

interface Presence {
  topic: string
  subscribers: number
  nodes: Array<{ node: string; subscribers: number }>
  since: string
}
interface StatsBody {
  connections: number
  broadcasts: number
  directSends: number
}

/** `POST /admin/api/connections/{id}/events` as a backend would call it. */
async function sendTo(
  url: string,
  key: string,
  connection: string,
  id: string,
  data: string,
  event?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/admin/api/connections/${connection}/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'x-sse-id': id,
      ...(event ? { 'x-sse-event': event } : {}),
    },
    body: data,
    signal: AbortSignal.timeout(10_000),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

forEachTarget((target) => {
  const key = () => target().apiKey
  /** The i-th entry point, wrapping: on one node every index is that node. */
  const at = (i: number) => target().urls[i % target().urls.length] as string
  const ws = (i: number) => at(i).replace(/^http/, 'ws')

  it('broadcasts to every SSE and WebSocket connection on every node, once each, whatever its topics', async () => {
    const a = uniqueTopic('bc-a')
    const b = uniqueTopic('bc-b')
    const sseA = await SseClient.open(`${at(1)}/sse?topic=${a}`)
    const sseAB = await SseClient.open(`${at(2)}/sse?topic=${a},${b}`)
    const envB = await SseClient.open(`${at(0)}/sse?topic=${b}&envelope=json`)
    const wsB = await WsClient.open(`${ws(2)}/ws?topic=${b}`)
    const wsAB = await WsClient.open(`${ws(1)}/ws?topic=${a},${b}`)
    // Registered everywhere once `gateway.connected` is written (the 101 comes before).
    for (const c of [wsB, wsAB]) await c.waitForGatewayEvents(1)
    // A topic event first, so each client has a resume position the broadcast must not move.
    await publish(at(0), key(), `${a},${b}`, 'before', 'x')
    for (const c of [sseA, sseAB, envB]) await c.waitForEvents(c === sseAB ? 2 : 1)
    const positions = [sseA, sseAB, envB].map((c) => c.lastEventId)

    const res = await publish(at(0), key(), '*', 'all-1', 'hello everyone', {
      'x-sse-event': 'notice',
    })
    expect(res.status).toBe(202)
    expect(res.body).toMatchObject({ id: 'all-1', delivered: ['*'], dropped: [] })
    // A second broadcast from the same publisher: once it has arrived, a duplicate of the first
    // (which would travel the same way ahead of it) would have arrived too.
    await publish(at(0), key(), '*', 'all-2', 'second')
    const sseClients = [sseA, sseAB, envB]
    for (const c of sseClients) await c.waitForEvents(c === sseAB ? 4 : 3)
    for (const c of [wsB, wsAB]) await c.waitForEvents(c === wsAB ? 4 : 3)

    for (const c of [sseA, sseAB]) {
      const bc = c.events.filter((e) => e.topic === '*')
      expect(bc.map((e) => [e.event, e.data])).toEqual([
        ['notice', 'hello everyone'],
        [undefined, 'second'],
      ])
      // No `id:` line: the broadcast is not in any topic's sequence.
      expect(bc.map((e) => e.id)).toEqual([undefined, undefined])
    }
    // The resume position (what EventSource would send back) is where the topic event left it.
    expect(sseClients.map((c) => c.lastEventId)).toEqual(positions)
    const env = envB.events.filter((e) => e.topic === '*').map((e) => JSON.parse(e.data))
    expect(env).toEqual([
      { topic: '*', id: 'all-1', event: 'notice', data: 'hello everyone', cursor: null },
      { topic: '*', id: 'all-2', event: null, data: 'second', cursor: null },
    ])
    for (const c of [wsB, wsAB]) {
      expect(c.events.filter((e) => e.topic === '*')).toEqual([
        { topic: '*', id: 'all-1', event: 'notice', data: 'hello everyone' },
        { topic: '*', id: 'all-2', event: null, data: 'second' },
      ])
    }
    for (const c of [sseA, sseAB, envB, wsB, wsAB]) c.close()
  })

  it('counts broadcasts and direct sends in the stats', async () => {
    const t = uniqueTopic('count')
    const sub = await SseClient.open(`${at(1)}/sse?topic=${t}`)
    await sub.waitForGatewayEvents(1)
    const before = (await admin<StatsBody>(at(0), key(), '/stats')).body
    await publish(at(0), key(), '*', 'count-1', 'x')
    expect((await sendTo(at(0), key(), sub.connectionId as string, 'count-2', 'y')).status).toBe(
      202,
    )
    await sub.waitForEvents(2)
    await eventually(
      async () => {
        const now = (await admin<StatsBody>(at(0), key(), '/stats')).body
        return now.broadcasts >= before.broadcasts + 1 && now.directSends >= before.directSends + 1
      },
      15_000,
      'stats to count the broadcast and the direct send',
    )
    sub.close()
  })

  it('drops a broadcast nobody can receive without reading its body', async () => {
    // No connection of this file's gateway is left open by the tests before this one.
    await eventually(
      async () => (await admin<StatsBody>(at(0), key(), '/stats')).body.connections === 0,
      20_000,
      'no connection left on the gateway',
    )
    const { hostname, port, host } = new URL(at(0))
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(port), hostname)
      let buf = ''
      const timer = setTimeout(() => {
        s.destroy()
        reject(new Error(`no answer in 10 s: ${JSON.stringify(buf)}`))
      }, 10_000)
      s.setEncoding('utf8')
      s.on('error', reject)
      s.on('data', (c: string) => {
        buf += c
        if (/\r\n\r\n[\s\S]*\}/.test(buf)) {
          clearTimeout(timer)
          s.destroy()
          resolve(buf)
        }
      })
      // Declares 10 MB and sends 10 bytes: only an answer from the headers can come back.
      s.write(
        `POST /publish HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${key()}\r\n` +
          'x-sse-topic: *\r\nx-sse-id: nobody-1\r\nContent-Length: 10000000\r\n\r\n0123456789',
      )
    })
    expect(answer).toMatch(/^HTTP\/1\.1 202/)
    expect(JSON.parse(answer.slice(answer.indexOf('{')))).toEqual({
      id: 'nobody-1',
      delivered: [],
      dropped: ['*'],
    })
  })

  it('sends one event to one connection on whichever node holds it', async () => {
    const t = uniqueTopic('direct')
    const target1 = await SseClient.open(`${at(2)}/sse?topic=${t}`)
    const other = await SseClient.open(`${at(2)}/sse?topic=${t}`)
    const wsSub = await WsClient.open(`${ws(1)}/ws?topic=${t}`)
    await wsSub.waitForGatewayEvents(1)
    const wsId = JSON.parse(wsSub.gatewayEvents[0]?.data ?? '{}').connectionId as string

    const sent = await sendTo(
      at(0),
      key(),
      target1.connectionId as string,
      'dm-1',
      'just you',
      'dm',
    )
    expect(sent).toEqual({ status: 202, body: { id: 'dm-1', connection: target1.connectionId } })
    const [got] = await target1.waitForEvents(1)
    expect(got).toEqual({ id: undefined, event: 'dm', topic: undefined, data: 'just you' })
    expect((await sendTo(at(0), key(), wsId, 'dm-2', 'to the socket')).status).toBe(202)
    const [frame] = await wsSub.waitForEvents(1)
    expect(frame).toEqual({ topic: null, id: 'dm-2', event: null, data: 'to the socket' })

    // Only the addressee got them: a topic event afterwards is the other one's first event.
    await publish(at(0), key(), t, 'after', 'for all')
    const [first] = await other.waitForEvents(1)
    expect(first?.data).toBe('for all')

    const gone = await sendTo(at(0), key(), 'no-such-connection', 'dm-3', 'x')
    expect(gone.status).toBe(404)
    expect(JSON.stringify(gone.body)).toContain('no-such-connection')
    const bad = await sendTo(at(0), key(), target1.connectionId as string, 'bad id!', 'x')
    expect(bad.status).toBe(400)
    const reserved = await sendTo(
      at(0),
      key(),
      target1.connectionId as string,
      'r',
      'x',
      'gateway.x',
    )
    expect(reserved.status).toBe(400)
    for (const c of [target1, other, wsSub]) c.close()
  })

  it('answers who is subscribed to a topic, per node, until the last one leaves', async () => {
    const t = uniqueTopic('presence')
    expect((await admin(at(0), key(), `/topics/${t}`)).status).toBe(404)
    const startedBefore = Date.now()
    const one = await SseClient.open(`${at(1)}/sse?topic=${t}`)
    const two = await SseClient.open(`${at(1)}/sse?topic=${t}`)
    const three = await WsClient.open(`${ws(2)}/ws?topic=${t}`)
    await three.waitForGatewayEvents(1)
    let p: Presence | undefined
    await eventually(
      async () => {
        const r = await admin<Presence>(at(0), key(), `/topics/${t}`)
        p = r.body
        return r.status === 200 && r.body.subscribers === 3
      },
      10_000,
      'presence to count 3 subscribers',
    )
    expect(p?.topic).toBe(t)
    expect(p?.nodes.reduce((n, x) => n + x.subscribers, 0)).toBe(3)
    // One node per entry point; behind one port (WORKERS) the nodes holding the connections.
    const held = await admin<{ items: Array<{ node: string }> }>(
      at(0),
      key(),
      `/connections?topic=${encodeURIComponent(t)}`,
    )
    expect(p?.nodes.length).toBe(
      target().name === 'node-workers'
        ? new Set(held.body.items.map((c) => c.node)).size
        : Math.min(2, target().urls.length),
    )
    // `since`: when the topic went live, which is after the test began (clocks of one host).
    expect(Date.parse(p?.since ?? '')).toBeGreaterThanOrEqual(startedBefore - 1000)
    one.close()
    two.close()
    await eventually(
      async () => (await admin<Presence>(at(0), key(), `/topics/${t}`)).body.subscribers === 1,
      10_000,
      'presence down to 1',
    )
    three.close()
    await eventually(
      async () => (await admin(at(0), key(), `/topics/${t}`)).status === 404,
      15_000,
      'presence 404 once the last subscriber left',
    )
    const bad = await admin(at(0), key(), '/topics/bad%20topic')
    expect(bad.status).toBe(400)
  })
})
