import { expect, it } from 'vitest'
import { admin, eventually, listAll, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { describeCluster, topic } from './harness.ts'

interface TopicItem {
  topic: string
  nodes: string[]
}

const readyz = async (url: string) =>
  (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })).status

describeCluster('failures', { ttlMs: 2000 }, (cluster) => {
  const url = (i: number) => cluster().urls[i] as string
  const key = () => cluster().apiKey
  const topicsFrom = async (i: number) =>
    (await listAll<TopicItem>(url(i), key(), '/topics', 500)).items

  it('takes a SIGKILLed node off every topic within its TTL, and the others keep working', async () => {
    const [shared, onlyC] = [topic('shared'), topic('only-c')]
    const onB = await SseClient.open(`${url(1)}/sse?topic=${shared}`)
    const onC = await SseClient.open(`${url(2)}/sse?topic=${shared},${onlyC}`)
    await cluster().nodes[2]?.kill()
    // A forward to the dead node fails on its own: node B still gets the event.
    expect((await publish(url(0), key(), shared, 'k1', 'after kill')).body.delivered).toEqual([
      shared,
    ])
    expect((await onB.waitForEvents(1))[0]?.id).toBe('k1')
    await eventually(
      async () => {
        const items = await topicsFrom(0)
        const s = items.find((x) => x.topic === shared)
        return !items.some((x) => x.topic === onlyC) && s?.nodes.join() === 'node-b'
      },
      cluster().ttlMs * 4,
      'node-c to leave every topic',
    )
    const nodes = await admin<{ items: Array<{ id: string }> }>(url(1), key(), '/nodes')
    expect(nodes.body.items.map((n) => n.id)).toEqual(['node-a', 'node-b'])
    expect((await publish(url(1), key(), onlyC, 'k2', 'x')).body.dropped).toEqual([onlyC])
    expect((await publish(url(1), key(), shared, 'k3', 'x')).body.delivered).toEqual([shared])
    expect((await onB.waitForEvents(2))[1]?.id).toBe('k3')
    onB.close()
    onC.close()
    await cluster().nodes[2]?.start()
    const back = await admin<{ items: Array<{ id: string }> }>(url(0), key(), '/nodes')
    expect(back.body.items.map((n) => n.id)).toEqual(['node-a', 'node-b', 'node-c'])
  })

  it('delivers locally while Redis is down, says not ready, and heals routing when it is back', async () => {
    const t = topic('outage')
    const onA = await SseClient.open(`${url(0)}/sse?topic=${t}`)
    const onC = await SseClient.open(`${url(2)}/sse?topic=${t}`)
    await cluster().redis.kill()
    await eventually(
      async () => (await Promise.all([0, 1, 2].map((i) => readyz(url(i))))).every((s) => s === 503),
      10_000,
      'every node to report not ready',
    )
    const during = await publish(url(0), key(), t, 'o1', 'during the outage')
    expect(during.body.delivered).toEqual([t])
    expect((await onA.waitForEvents(1))[0]?.id).toBe('o1')

    await cluster().redis.start()
    await eventually(
      async () => (await Promise.all([0, 1, 2].map((i) => readyz(url(i))))).every((s) => s === 200),
      15_000,
      'every node to be ready again',
    )
    // Re-registration restored the directory: a publish on B finds the subscribers on A and C.
    expect((await publish(url(1), key(), t, 'o2', 'healed')).body.delivered).toEqual([t])
    expect((await onA.waitForEvents(2))[1]?.id).toBe('o2')
    expect((await onC.waitForEvents(1))[0]?.id).toBe('o2')
    expect((await topicsFrom(1)).find((x) => x.topic === t)?.nodes).toEqual(['node-a', 'node-c'])
    onA.close()
    onC.close()
  })
})
