import { expect, it } from 'vitest'
import { publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { describeCluster, topic } from './harness.ts'

describeCluster('routing', {}, (cluster) => {
  const url = (i: number) => cluster().urls[i] as string
  const key = () => cluster().apiKey
  const sse = (i: number, topics: string) => SseClient.open(`${url(i)}/sse?topic=${topics}`)

  it('delivers a publish on node A to subscribers on nodes B and C', async () => {
    const t = topic()
    const onB = await sse(1, t)
    const onC = await sse(2, t)
    const res = await publish(url(0), key(), t, 'e1', 'from A')
    expect(res).toEqual({ status: 202, body: { id: 'e1', delivered: [t], dropped: [] } })
    for (const s of [onB, onC]) {
      expect(await s.waitForEvents(1)).toEqual([
        { id: 'e1', event: undefined, topic: t, data: 'from A' },
      ])
      s.close()
    }
  })

  it('reaches the only subscriber, on C, from publishes on A and on B', async () => {
    const t = topic()
    const onC = await sse(2, t)
    expect((await publish(url(0), key(), t, 'a', 'via A')).body.delivered).toEqual([t])
    expect((await publish(url(1), key(), t, 'b', 'via B')).body.delivered).toEqual([t])
    expect((await onC.waitForEvents(2)).map((e) => [e.id, e.data])).toEqual([
      ['a', 'via A'],
      ['b', 'via B'],
    ])
    onC.close()
  })

  it('drops at once on every node when no node holds the topic', async () => {
    const t = topic('nobody')
    for (let i = 0; i < 3; i++) {
      const res = await publish(url(i), key(), t, `d${i}`, 'x')
      expect(res).toEqual({ status: 202, body: { id: `d${i}`, delivered: [], dropped: [t] } })
    }
  })

  it('serves multi-topic subscribers spread over nodes, each event tagged with its topic', async () => {
    const [x, y, z] = [topic('x'), topic('y'), topic('z')]
    const onA = await sse(0, `${x},${y}`)
    const onB = await WsClient.open(`${url(1).replace('http', 'ws')}/ws?topic=${y},${z}`)
    const onC = await sse(2, `${x},${z}`)
    const res = await publish(url(0), key(), `${x},${y},${z}`, 'all', 'three topics')
    expect(res.body.delivered?.sort()).toEqual([x, y, z].sort())
    const topicsOf = (events: Array<{ topic?: string | null | undefined }>) =>
      events.map((e) => e.topic).sort()
    expect(topicsOf(await onA.waitForEvents(2))).toEqual([x, y].sort())
    expect(topicsOf(await onB.waitForEvents(2))).toEqual([y, z].sort())
    expect(topicsOf(await onC.waitForEvents(2))).toEqual([x, z].sort())
    await publish(url(2), key(), y, 'only-y', 'y from C')
    expect((await onA.waitForEvents(3))[2]).toMatchObject({
      id: 'only-y',
      topic: y,
      data: 'y from C',
    })
    expect((await onB.waitForEvents(3))[2]).toEqual({
      topic: y,
      id: 'only-y',
      event: null,
      data: 'y from C',
    })
    expect(onC.events).toHaveLength(2)
    onA.close()
    onB.close()
    onC.close()
  })

  it('keeps the order of one publisher’s events when it alternates between nodes', async () => {
    const t = topic('order')
    const onA = await sse(0, t)
    const onC = await sse(2, t)
    const ids = Array.from({ length: 60 }, (_, i) => `${i}`)
    for (const id of ids) await publish(url(Number(id) % 2), key(), t, id, `n${id}`)
    for (const s of [onA, onC]) {
      expect((await s.waitForEvents(60)).map((e) => e.id)).toEqual(ids)
      s.close()
    }
  })

  it('tails a topic on another node: publishes and drops made anywhere', async () => {
    const t = topic('tail')
    const tail = await SseClient.open(`${url(2)}/admin/api/topics/${t}/tail`, {
      authorization: `Bearer ${key()}`,
    })
    expect((await publish(url(0), key(), t, 'lost', 'secret')).body.dropped).toEqual([t])
    const [drop] = await tail.waitForEvents(1)
    expect(drop?.event).toBe('drop')
    expect(JSON.parse(drop?.data ?? '')).toMatchObject({ topic: t, id: 'lost', dropped: true })
    const onB = await sse(1, t)
    await publish(url(0), key(), t, 'seen', 'hello')
    const [, pub] = await tail.waitForEvents(2)
    expect(pub?.event).toBe('publish')
    expect(JSON.parse(pub?.data ?? '')).toMatchObject({
      topic: t,
      id: 'seen',
      data: 'hello',
      subscribers: 1,
    })
    expect((await onB.waitForEvents(1))[0]?.id).toBe('seen')
    onB.close()
    tail.close()
  })
})
