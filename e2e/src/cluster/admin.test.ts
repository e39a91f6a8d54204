import { expect, it } from 'vitest'
import { admin, eventually, listAll, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { describeCluster, topic } from './harness.ts'

interface Conn {
  id: string
  node: string
  topics: string[]
  eventsSent: number
}
interface TopicItem {
  topic: string
  subscribers: number
  nodes: string[]
  window: { events: number; bytes: number | null } | null
}
interface NodeItem {
  id: string
  url: string
  connections: number
}
interface StatsBody {
  connections: number
  nodes: Array<{ node: string; connections: number; delivered: number }>
}

describeCluster('admin across nodes', {}, (cluster) => {
  const url = (i: number) => cluster().urls[i] as string
  const key = () => cluster().apiKey

  it('lists every live node, with the address it announced', async () => {
    for (let i = 0; i < 3; i++) {
      const { status, body } = await admin<{ items: NodeItem[] }>(url(i), key(), '/nodes')
      expect(status).toBe(200)
      expect(body.items.map((n) => [n.id, n.url])).toEqual(
        cluster().nodes.map((n) => [n.id, n.url]),
      )
    }
  })

  it('lists a topic with the nodes that hold it and its replay window, from any node', async () => {
    const t = topic('listed')
    const subs = await Promise.all([0, 2, 2].map((i) => SseClient.open(`${url(i)}/sse?topic=${t}`)))
    await publish(url(1), key(), t, 'w1', 'hello')
    for (let i = 0; i < 3; i++) {
      const { items } = await listAll<TopicItem>(url(i), key(), '/topics', 500)
      expect(items.find((x) => x.topic === t)).toEqual({
        topic: t,
        subscribers: 3,
        nodes: ['node-a', 'node-c'],
        // Bytes held: data, id and type (UTF-8), plus 64 an event (docs/cluster.md).
        window: { events: 1, bytes: 5 + 2 + 64 },
      })
    }
    for (const s of subs) s.close()
  })

  it('pages the connections of all nodes from any node: each once, in id order, with its node', async () => {
    const t = topic('paged')
    const subs: SseClient[] = []
    for (let i = 0; i < 9; i++) subs.push(await SseClient.open(`${url(i % 3)}/sse?topic=${t}`))
    const expected = subs
      .map((s, i) => ({ id: s.connectionId as string, node: cluster().nodes[i % 3]?.id }))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
    for (let i = 0; i < 3; i++) {
      const { items, pages } = await listAll<Conn>(url(i), key(), `/connections?topic=${t}`, 2)
      expect(pages).toBe(5)
      expect(items.map((c) => ({ id: c.id, node: c.node }))).toEqual(expected)
    }
    for (const s of subs) s.close()
  })

  it('disconnects a connection held by another node', async () => {
    const t = topic('kick')
    const onC = await SseClient.open(`${url(2)}/sse?topic=${t}`)
    const id = onC.connectionId as string
    const res = await admin(url(0), key(), `/connections/${id}`, { method: 'DELETE' })
    expect(res).toEqual({ status: 200, body: { id, disconnected: true } })
    await onC.waitForEnd()
    await eventually(
      async () =>
        (await admin(url(1), key(), `/connections/${id}`, { method: 'DELETE' })).status === 404,
      10_000,
      'the connection to be gone from the cluster',
    )
    expect((await publish(url(1), key(), t, 'late', 'x')).body.dropped).toEqual([t])
  })

  it('shows stats per node, counting deliveries where they happen', async () => {
    const t = topic('stats')
    const onC = await SseClient.open(`${url(2)}/sse?topic=${t}`)
    await publish(url(0), key(), t, 's1', 'x')
    await onC.waitForEvents(1)
    // Other nodes' figures are the snapshot of their last heartbeat (every NODE_TTL_MS / 3).
    await eventually(
      async () => {
        const { body } = await admin<StatsBody>(url(1), key(), '/stats')
        const c = body.nodes.find((n) => n.node === 'node-c')
        return body.nodes.length === 3 && (c?.delivered ?? 0) >= 1 && (c?.connections ?? 0) >= 1
      },
      10_000,
      'node-c to show its connection and delivery',
    )
    onC.close()
  })
})
