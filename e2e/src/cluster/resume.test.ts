// Resume in the cluster (docs/cluster.md, "Resume"): a subscriber that lands on another node
// resumes there; a node drained (SIGTERM) or killed (SIGKILL) while a publisher runs loses no
// event for the subscribers that reconnect elsewhere with their Last-Event-ID.
import { expect, it } from 'vitest'
import { publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import type { Cluster } from '../targets/cluster.ts'
import { describeCluster, topic } from './harness.ts'
import { ResumingSubscriber } from './resumer.ts'

/** How long a client waits before it reconnects (EventSource's default is about 3 s). */
const RETRY_MS = 500
/** The publisher's pace: one publish (to two topics) every PACE_MS, one at a time. */
const PACE_MS = 20

describeCluster('resume on another node', {}, (cluster) => {
  const url = (i: number) => cluster().urls[i] as string
  const key = () => cluster().apiKey

  it('replays on node B what a subscriber of node C missed, then goes on live', async () => {
    const t = topic('move')
    const keeper = await SseClient.open(`${url(0)}/sse?topic=${t}`) // the topic stays live
    const sub = await SseClient.open(`${url(2)}/sse?topic=${t}`)
    await sub.waitForGatewayEvents(1)
    await publish(url(0), key(), t, 'e1', 'one')
    await sub.waitForEvents(1)
    const last = sub.lastEventId as string
    sub.close()
    await publish(url(0), key(), t, 'e2', 'two')
    await publish(url(1), key(), t, 'e3', 'three')
    const back = await SseClient.open(`${url(1)}/sse?topic=${t}`, { 'last-event-id': last })
    expect((await back.waitForEvents(2)).map((e) => e.id)).toEqual(['e2', 'e3'])
    await publish(url(2), key(), t, 'e4', 'four')
    expect((await back.waitForEvents(3)).map((e) => e.id)).toEqual(['e2', 'e3', 'e4'])
    expect(back.gatewayEvents.map((e) => e.event)).toEqual(['gateway.connected'])
    // Node B counted what it replayed.
    const metrics = await (await fetch(`${url(1)}/metrics`)).text()
    expect(Number(/^sse_gateway_replayed_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      2,
    )
    back.close()
    keeper.close()
  })

  it('gives every subscriber the same order when two nodes take publishes to one topic at once', async () => {
    const t = topic('race')
    const subs = await Promise.all([0, 1, 2].map((i) => SseClient.open(`${url(i)}/sse?topic=${t}`)))
    for (const s of subs) await s.waitForGatewayEvents(1)
    const n = 100
    const publisher = (node: number) =>
      (async () => {
        for (let i = 0; i < n; i++) await publish(url(node), key(), t, `n${node}-${i}`, 'x')
      })()
    await Promise.all([publisher(0), publisher(1)])
    for (const s of subs) await s.waitForEvents(2 * n)
    const order = subs[0]!.events.map((e) => e.id)
    // Each node wrote the topic in its sequence order: the same on every node, with no hole.
    for (const s of subs) {
      expect(s.events.map((e) => e.id)).toEqual(order)
      const seqs = s.rawIds.map((id) => Number.parseInt(id?.split('-').at(-1) ?? '', 36))
      expect(seqs).toEqual(Array.from({ length: 2 * n }, (_, i) => seqs[0]! + i))
    }
    for (const node of [0, 1]) {
      const mine = order.filter((id) => id?.startsWith(`n${node}-`))
      expect(mine).toEqual(Array.from({ length: n }, (_, i) => `n${node}-${i}`))
    }
    for (const s of subs) s.close()
  })

  it('shows a gap of a resume on node C in a tail opened on node A', async () => {
    const t = topic('tailgap')
    const tail = await SseClient.open(`${url(0)}/admin/api/topics/${t}/tail`, {
      authorization: `Bearer ${key()}`,
    })
    const back = await SseClient.open(`${url(2)}/sse?topic=${t}`, { 'last-event-id': 'nonsense' })
    await back.waitForGatewayEvents(2)
    await tail.until(() => tail.events.some((e) => e.event === 'gap'), 10_000, 'the gap')
    const gap = JSON.parse(tail.events.find((e) => e.event === 'gap')?.data ?? '{}')
    expect(gap).toMatchObject({ topic: t, connectionId: back.connectionId, reason: 'malformed' })
    back.close()
    tail.close()
  })
})

/**
 * Subscribers on every node, two of them on node C alone for one topic; a publisher at a steady
 * pace through nodes A and B; node C is stopped by `stopC` in the middle. Every subscriber must
 * end with every event exactly once, in order, and no gap; those of node C must have moved.
 */
async function survivesLosingNodeC(cluster: Cluster, stopC: () => Promise<void>): Promise<void> {
  const [url, key] = [(i: number) => cluster.urls[i] as string, cluster.apiKey]
  const [solo, shared] = [topic('solo'), topic('shared')]
  let lb = 0
  const elsewhere = () => url(lb++ % 2) // the load balancer: C is out of rotation
  const subscriber = (node: number, topics: string) =>
    ResumingSubscriber.open({ first: url(node), topics, next: elsewhere, retryMs: RETRY_MS })
  const onC = [await subscriber(2, solo), await subscriber(2, solo), await subscriber(2, shared)]
  const others = [await subscriber(0, shared), await subscriber(1, shared)]

  const sent: string[] = []
  const refused: string[] = []
  let publishing = true
  const publisher = (async () => {
    for (let i = 0; publishing; i++) {
      const id = `p${i}`
      const res = await publish(url(i % 2), key, `${solo},${shared}`, id, `${i}`)
      if (res.status !== 202 || (res.body.dropped ?? []).length > 0) {
        refused.push(`${id}: ${res.status} ${JSON.stringify(res.body)}`)
      }
      sent.push(id)
      await new Promise((r) => setTimeout(r, PACE_MS))
    }
  })()
  const until = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  await until(() => sent.length >= 25, 'the publisher to get going')
  await stopC()
  // Node C's subscribers come back elsewhere and the publisher goes on a while after that.
  await until(() => onC.every((s) => s.nodes.length > 1), "node C's subscribers to reconnect")
  const at = sent.length
  await until(() => sent.length >= at + 25, 'more events after the move')
  publishing = false
  await publisher

  expect(refused).toEqual([])
  const all = [...onC, ...others]
  for (const s of all) await s.waitForEvents(sent.length, 30_000)
  for (const s of all) {
    expect(s.events.map((e) => e.id)).toEqual(sent)
    expect(s.gaps).toEqual([])
  }
  for (const s of onC) expect(s.nodes.slice(1).every((u) => u !== url(2))).toBe(true)
  await Promise.all(all.map((s) => s.close()))
}

describeCluster('a rolling drain', {}, (cluster) => {
  it('loses nothing for the subscribers of a node drained (SIGTERM) while a publisher runs', async () => {
    const c = cluster().nodes[2]
    if (!c) throw new Error('no node C')
    let exited: Promise<void> | undefined
    await survivesLosingNodeC(cluster(), async () => {
      // The drain ends C's streams at once and exits once its topics are held elsewhere.
      exited = c.drain()
    })
    await exited
    expect(c.proc.proc.exitCode).toBe(0)
  })
})

describeCluster('a node killed', { ttlMs: 2000 }, (cluster) => {
  it('loses nothing for the subscribers of a node killed with -9 who reconnect within NODE_TTL_MS', async () => {
    await survivesLosingNodeC(cluster(), () => cluster().nodes[2]!.kill())
  })
})
