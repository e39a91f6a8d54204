// Resume without loss (docs/resume.md): a reconnect with Last-Event-ID, or a first connect with
// ?lastEventId=, gets exactly what it missed on every topic of its subscription, then the live
// stream; what cannot be replayed is said in-band with a `gateway.gap` event.
import { expect, it } from 'vitest'
import { publish } from '../clients/http.ts'
import { type ParsedEvent, SseClient } from '../clients/sse.ts'
import { WsClient } from '../clients/ws.ts'
import { E2E_REPLAY_EVENTS } from '../targets/util.ts'
import { forEachTarget, uniqueTopic } from './harness.ts'

const dataOf = (events: ParsedEvent[]) => events.map((e) => `${e.topic}:${e.id}:${e.data}`)
const gapData = (e: ParsedEvent | undefined) => JSON.parse(e?.data ?? 'null')

forEachTarget((target) => {
  const sse = (q: string, headers?: Record<string, string>) =>
    SseClient.open(`${target().url}/sse${q}`, headers)
  const pub = (topics: string, id: string, data: string, extra?: Record<string, string>) =>
    publish(target().url, target().apiKey, topics, id, data, extra)
  /** Opens a subscriber and waits for its `gateway.connected` event. */
  const connected = async (q: string, headers?: Record<string, string>) => {
    const s = await sse(q, headers)
    await s.waitForGatewayEvents(1)
    return s
  }

  it('tells every connection its id and topics first, with a cursor to resume from', async () => {
    const [a, b] = [uniqueTopic('ida'), uniqueTopic('idb')]
    const sub = await connected(`?topic=${a},${b}`)
    const [hello] = sub.gatewayEvents
    expect(hello?.event).toBe('gateway.connected')
    expect(JSON.parse(hello?.data ?? '')).toEqual({
      connectionId: sub.connectionId,
      topics: [a, b],
      resumed: false,
    })
    expect(hello?.id).toMatch(/^~1(\.[0-9a-z]+-[0-9a-z]+-[0-9a-z]+){2}$/)
    sub.close()
  })

  it('replays what one topic missed, once each and in order, then goes on live', async () => {
    const t = uniqueTopic('one')
    const keeper = await connected(`?topic=${t}`) // keeps the topic live while the other is away
    const sub = await connected(`?topic=${t}`)
    await pub(t, 'e1', 'one')
    await sub.waitForEvents(1)
    const last = sub.lastEventId
    expect(last?.startsWith('e1~')).toBe(true)
    sub.close()
    await pub(t, 'e2', 'two')
    await pub(t, 'e3', 'three')
    const back = await sse(`?topic=${t}`, { 'last-event-id': last as string })
    expect(dataOf(await back.waitForEvents(2))).toEqual([`${t}:e2:two`, `${t}:e3:three`])
    await pub(t, 'e4', 'four')
    expect(dataOf(await back.waitForEvents(3))).toEqual([
      `${t}:e2:two`,
      `${t}:e3:three`,
      `${t}:e4:four`,
    ])
    expect(back.gatewayEvents.map((e) => e.event)).toEqual(['gateway.connected'])
    expect(JSON.parse(back.gatewayEvents[0]?.data ?? '').resumed).toBe(true)
    // A resumed connection's first event carries the cursor it resumed from: a client that drops
    // its last id on an event without one still comes back to the same place.
    const resumedFrom = (last as string).slice((last as string).indexOf('~') + 1)
    expect(back.gatewayEvents[0]?.id).toBe(`~${resumedFrom}`)
    back.close()
    keeper.close()
  })

  it('resumes every topic of a subscription, a publish naming two of them included', async () => {
    const [a, b] = [uniqueTopic('ma'), uniqueTopic('mb')]
    const keeper = await connected(`?topic=${a},${b}`)
    const sub = await connected(`?topic=${a},${b}`)
    await pub(a, 'first', 'A')
    await sub.waitForEvents(1)
    const last = sub.lastEventId as string
    sub.close()
    await pub(`${a},${b}`, 'both', 'AB')
    await pub(b, 'bee', 'B')
    await pub(a, 'ay', 'A2')
    const back = await sse(`?topic=${a},${b}`, { 'last-event-id': last })
    const got = dataOf(await back.waitForEvents(4))
    // Per topic in publish order, each once.
    expect(got.filter((g) => g.startsWith(`${a}:`))).toEqual([`${a}:both:AB`, `${a}:ay:A2`])
    expect(got.filter((g) => g.startsWith(`${b}:`))).toEqual([`${b}:both:AB`, `${b}:bee:B`])
    await pub(b, 'live', 'L')
    await back.waitForEvents(5)
    expect(back.events).toHaveLength(5)
    expect(back.gatewayEvents.map((e) => e.event)).toEqual(['gateway.connected'])
    back.close()
    keeper.close()
  })

  it('resumes a first connection from ?lastEventId= (a page that kept the id)', async () => {
    const t = uniqueTopic('query')
    const keeper = await connected(`?topic=${t}`)
    const sub = await connected(`?topic=${t}`)
    await pub(t, 'q1', 'one')
    await sub.waitForEvents(1)
    const last = sub.lastEventId as string
    sub.close()
    await pub(t, 'q2', 'two')
    const back = await sse(`?topic=${t}&lastEventId=${encodeURIComponent(last)}`)
    expect(dataOf(await back.waitForEvents(1))).toEqual([`${t}:q2:two`])
    back.close()
    keeper.close()
  })

  it('gives no history to a connection without a cursor', async () => {
    const t = uniqueTopic('fresh')
    const keeper = await connected(`?topic=${t}`)
    await pub(t, 'before', 'old')
    const sub = await connected(`?topic=${t}`)
    await pub(t, 'after', 'new')
    expect(dataOf(await sub.waitForEvents(1))).toEqual([`${t}:after:new`])
    await keeper.waitForEvents(2)
    expect(sub.events).toHaveLength(1)
    sub.close()
    keeper.close()
  })

  it('says `expired` with the count when the cursor is older than the window, then replays the rest', async () => {
    const t = uniqueTopic('old')
    const keeper = await connected(`?topic=${t}`)
    const sub = await connected(`?topic=${t}`)
    const cursor = sub.lastEventId as string
    sub.close()
    const n = E2E_REPLAY_EVENTS + 7
    for (let i = 1; i <= n; i++) await pub(t, `w${i}`, `${i}`)
    const back = await sse(`?topic=${t}`, { 'last-event-id': cursor })
    const got = await back.waitForEvents(E2E_REPLAY_EVENTS, 20_000)
    expect(got[0]?.id).toBe('w8')
    expect(got.at(-1)?.id).toBe(`w${n}`)
    const gap = back.gatewayEvents.find((e) => e.event === 'gateway.gap')
    expect(gapData(gap)).toEqual({ reason: 'expired', topics: [t], missed: { [t]: 7 } })
    // The gap comes before the replayed events and carries a cursor past what is lost.
    expect(gap?.id?.startsWith('~1.')).toBe(true)
    back.close()
    keeper.close()
  })

  it('says `expired` for what was dropped while a lone subscriber was away (LINGER_MS=0)', async () => {
    const t = uniqueTopic('lone')
    const sub = await connected(`?topic=${t}`)
    const cursor = sub.lastEventId as string
    sub.close()
    // Dropped: nobody is subscribed (the specification's rule), but the count is kept.
    const dropped = async () => (await pub(t, 'gone', 'x')).body.dropped?.includes(t) === true
    const until = Date.now() + 10_000
    while (!(await dropped())) {
      if (Date.now() > until) throw new Error('the topic never went away after its last subscriber')
      await new Promise((r) => setTimeout(r, 100))
    }
    const back = await connected(`?topic=${t}`, { 'last-event-id': cursor })
    await back.waitForGatewayEvents(2)
    const gap = gapData(back.gatewayEvents[1])
    expect(gap).toMatchObject({ reason: 'expired', topics: [t] })
    expect(gap.missed[t]).toBeGreaterThanOrEqual(1)
    back.close()
  })

  it('shows a resume gap in the admin tail of the topic', async () => {
    const t = uniqueTopic('tailgap')
    const tail = await SseClient.open(`${target().url}/admin/api/topics/${t}/tail`, {
      authorization: `Bearer ${target().apiKey}`,
    })
    const keeper = await connected(`?topic=${t}`)
    const sub = await connected(`?topic=${t}`)
    const cursor = sub.lastEventId as string
    sub.close()
    for (let i = 1; i <= E2E_REPLAY_EVENTS + 2; i++) await pub(t, `g${i}`, `${i}`)
    const back = await connected(`?topic=${t}`, { 'last-event-id': cursor })
    await tail.until(() => tail.events.some((e) => e.event === 'gap'), 10_000, 'a gap in the tail')
    const gap = JSON.parse(tail.events.find((e) => e.event === 'gap')?.data ?? '{}')
    expect(gap).toMatchObject({
      topic: t,
      connectionId: back.connectionId,
      reason: 'expired',
      missed: 2,
    })
    back.close()
    keeper.close()
    tail.close()
  })

  it('says `malformed` for a cursor it did not write, and `unknown-topic` for a topic the cursor lacks', async () => {
    const [a, b] = [uniqueTopic('ua'), uniqueTopic('ub')]
    const bad = await connected(`?topic=${a}`, { 'last-event-id': '42' })
    await bad.waitForGatewayEvents(2)
    expect(gapData(bad.gatewayEvents[1])).toEqual({ reason: 'malformed', topics: [a] })
    const cursor = bad.gatewayEvents[1]?.id as string
    bad.close()
    // The subscription changed: a keeps its place, b was not in the cursor.
    const wider = await connected(`?topic=${a},${b}`, { 'last-event-id': cursor })
    await wider.waitForGatewayEvents(2)
    expect(gapData(wider.gatewayEvents[1])).toEqual({ reason: 'unknown-topic', topics: [b] })
    await pub(b, 'after', 'live')
    expect(dataOf(await wider.waitForEvents(1))).toEqual([`${b}:after:live`])
    wider.close()
  })

  it('writes each event once across a reconnect in the middle of a steady publisher', async () => {
    const t = uniqueTopic('seam')
    const keeper = await connected(`?topic=${t}`)
    const first = await connected(`?topic=${t}`)
    const total = 40
    let sent = 0
    const publisher = (async () => {
      for (; sent < total; sent++) await pub(t, `s${sent}`, `${sent}`)
    })()
    await first.waitForEvents(10)
    first.close()
    const cursor = first.lastEventId as string
    const seen = first.events.map((e) => e.id)
    const second = await sse(`?topic=${t}`, { 'last-event-id': cursor })
    await publisher
    await second.waitForEvents(total - seen.length, 20_000)
    const all = [...seen, ...second.events.map((e) => e.id)]
    expect(all).toEqual(Array.from({ length: total }, (_, i) => `s${i}`))
    second.close()
    keeper.close()
  })

  it('resumes a WebSocket from ?lastEventId= with the cursor its frames carry', async () => {
    const t = uniqueTopic('ws')
    const keeper = await connected(`?topic=${t}`)
    const ws = await WsClient.open(`${target().url.replace(/^http/, 'ws')}/ws?topic=${t}`)
    const [hello] = await ws.waitForGatewayEvents(1)
    expect(hello).toMatchObject({ topic: null, event: 'gateway.connected' })
    await pub(t, 'w1', 'one')
    await ws.waitForEvents(1)
    const cursor = ws.lastCursor as string
    expect(cursor).toMatch(/^1\.[0-9a-z]+-[0-9a-z]+-[0-9a-z]+$/)
    ws.close()
    await pub(t, 'w2', 'two')
    const back = await WsClient.open(
      `${target().url.replace(/^http/, 'ws')}/ws?topic=${t}&lastEventId=${cursor}`,
    )
    expect(await back.waitForEvents(1)).toEqual([{ topic: t, id: 'w2', event: null, data: 'two' }])
    back.close()
    keeper.close()
  })

  it('refuses to publish a reserved gateway.* event type', async () => {
    const res = await pub(uniqueTopic(), 'x', 'y', { 'x-sse-event': 'gateway.gap' })
    expect(res.status).toBe(400)
    expect(res.body.error?.message).toMatch(/reserved/)
  })
})
