import { admin, publish } from '../clients/http.ts'
import { SseClient } from '../clients/sse.ts'
import type { Target } from '../targets/index.ts'
import { type ClientRun, type Received, short } from './client-run.ts'

/** The event types every client is told to listen for by name (INTEROP_EVENT_TYPES). */
export const EVENT_TYPES = ['created', 'order.updated']

const MULTILINE = [
  'first line',
  'second line',
  '',
  'after an empty line',
  ': not a comment',
  'data: not a field',
  'event: not a type',
  '  two leading spaces',
  'last line',
].join('\n')
const UTF8 = 'ünïcödé ✓ — 日本語 — emoji 🚀 — Ωmega ½'
/** 64 KiB on one line: with `data: ` in front, longer than a 64 KiB line buffer. */
const BIG = '0123456789abcdef'.repeat(4096)

/** One publish: its topics (indexes into the client's topics), id, type and body. */
export interface Publish {
  topics: number[]
  id: string
  event?: string
  data: string
}

/** What a scenario needs from the harness. */
export interface ScenarioContext {
  client: ClientRun
  transport: 'sse' | 'ws'
  /** The client's topics, unique to this cell. */
  topics: string[]
  target: Target
  /** Where publishes and admin calls go (in a cluster: another node than the client's). */
  pubUrl: string
  /** Where the client subscribes. */
  subUrl: string
  /** What the report should say about a passed cell (quirks seen on the way). */
  notes: Set<string>
}

export interface Scenario {
  name: string
  /** One line for the report. */
  title: string
  /** How many topics the client subscribes to. */
  topics: number
  /** Whether the scenario sends an event over 64 KiB (a client with a lower limit records `limit`). */
  big?: boolean
  /** Runs only where the target resumes (see probeResume). */
  needsResume?: boolean
  /** Runs the scenario; throws with a named reason on any difference. */
  run(ctx: ScenarioContext, id: (n: number) => string): Promise<void>
}

/** The scenarios, in report order. */
export const SCENARIOS: Scenario[] = [
  simple('multi-line', 'a body of 9 lines, one empty, some looking like SSE fields', [MULTILINE]),
  simple('utf-8', 'a UTF-8 body: accents, CJK, an emoji outside the BMP', [UTF8]),
  simple('empty', 'an empty body', ['']),
  {
    ...simple('64-kib', 'a 64 KiB body on one line, then a small event after it', [BIG, 'after']),
    big: true,
  },
  {
    name: 'event-types',
    title: 'events with types `created` and `order.updated`, and one without',
    topics: 1,
    async run(ctx, id) {
      await deliver(ctx, [
        { topics: [0], id: id(1), event: 'created', data: 'typed' },
        { topics: [0], id: id(2), data: 'untyped' },
        { topics: [0], id: id(3), event: 'order.updated', data: 'dotted type' },
      ])
    },
  },
  {
    name: 'two-topics',
    title: 'a publish naming both topics the client holds (one copy per topic), then one each',
    topics: 2,
    async run(ctx, id) {
      await deliver(ctx, [
        { topics: [0, 1], id: id(1), data: 'to both' },
        { topics: [1], id: id(2), data: 'to the second' },
        { topics: [0], id: id(3), data: 'to the first' },
      ])
      if (ctx.transport === 'sse')
        ctx.notes.add(
          'without ?envelope=json the two copies are identical: the topic is not visible',
        )
    },
  },
  {
    name: 'reconnect',
    title:
      'the gateway disconnects the client (DELETE /admin/api/connections/{id}); it reconnects by itself and receives what comes after',
    topics: 1,
    async run(ctx, id) {
      await waitConnected(ctx, 1)
      await deliver(ctx, [{ topics: [0], id: id(1), data: 'before' }], { waitSubscribed: false })
      await disconnect(ctx)
      await waitReconnected(ctx)
      await deliver(
        ctx,
        [
          { topics: [0], id: id(1), data: 'before' },
          { topics: [0], id: id(2), data: 'after' },
        ],
        { waitSubscribed: false, alreadyPublished: 1 },
      )
    },
  },
  {
    name: 'resume',
    title:
      'an event published while the client is away (another subscriber keeps the topic live) arrives once after it reconnects',
    topics: 1,
    needsResume: true,
    async run(ctx, id) {
      const keeper = await SseClient.open(
        `${ctx.subUrl}/sse?topic=${encodeURIComponent(ctx.topics[0] ?? '')}`,
      )
      try {
        await waitConnected(ctx, 1)
        const all: Publish[] = [
          { topics: [0], id: id(1), data: 'before' },
          { topics: [0], id: id(2), data: 'while away' },
          { topics: [0], id: id(3), data: 'after' },
        ]
        await deliver(ctx, all.slice(0, 1), { waitSubscribed: false })
        await disconnect(ctx)
        await send(ctx, all[1] as Publish)
        await waitReconnected(ctx)
        await deliver(ctx, all, { waitSubscribed: false, alreadyPublished: 2 })
      } finally {
        keeper.close()
      }
    },
  },
]

/** A scenario that publishes `bodies` in order to the client's one topic. */
function simple(name: string, title: string, bodies: string[]): Scenario {
  return {
    name,
    title,
    topics: 1,
    async run(ctx, id) {
      await deliver(
        ctx,
        bodies.map((data, i) => ({ topics: [0], id: id(i + 1), data })),
      )
    },
  }
}

/**
 * Waits until the client is subscribed, publishes `events` (after the first `alreadyPublished`,
 * which were sent before), waits until every copy has arrived, and compares what the client
 * reported with what was published.
 */
async function deliver(
  ctx: ScenarioContext,
  events: Publish[],
  opts: { waitSubscribed?: boolean; alreadyPublished?: number } = {},
): Promise<void> {
  if (opts.waitSubscribed !== false) await waitSubscribed(ctx)
  for (const p of events.slice(opts.alreadyPublished ?? 0)) await send(ctx, p)
  const ids = new Set(events.map((p) => p.id))
  const copies = events.reduce((n, p) => n + p.topics.length, 0)
  const ours = () => published(ctx.client.received).events.filter((r) => ids.has(r.publisherId))
  await ctx.client.wait(
    () => ours().length >= copies,
    10_000,
    `${copies} event${copies > 1 ? 's' : ''} (ids ${[...ids].join(', ')})`,
  )
  const { events: got, phantoms } = published(ctx.client.received)
  const problem = compare(ctx, events, got)
  if (problem) throw new Error(`${problem}${ctx.client.describe()}`)
  if (phantoms > 0) {
    ctx.notes.add(
      'the library also handed over empty events nobody published, repeating the previous id (heartbeat comments turned into events: see "Known client quirks" in docs/examples.md)',
    )
  }
}

/**
 * The published events among what a client received: not the gateway's own (an EventSource gives
 * a gateway.connected without an `id:` line the previous event's id, the spec's last event ID,
 * so it would look like one of ours), and not the empty events some libraries make of comment
 * lines: an empty untyped event whose whole id is empty or repeats the previous event's. (A
 * duplicate of a published empty event would look the same; every other duplicate is seen.)
 */
export function published(received: Received[]): { events: Received[]; phantoms: number } {
  const events: Received[] = []
  let phantoms = 0
  let previousId = ''
  for (const r of received) {
    const wholeId = r.cursor ?? r.publisherId
    const phantom =
      r.topic === undefined &&
      r.type === 'message' &&
      r.data === '' &&
      (wholeId === '' || wholeId === previousId)
    if (wholeId !== '') previousId = wholeId
    if (phantom) phantoms++
    else if (!isGateway(r)) events.push(r)
  }
  return { events, phantoms }
}

/** Publishes one event; fails unless every topic was delivered. */
async function send(ctx: ScenarioContext, p: Publish): Promise<void> {
  const topics = p.topics.map((i) => ctx.topics[i] ?? '')
  const res = await publish(
    ctx.pubUrl,
    ctx.target.apiKey,
    topics.join(','),
    p.id,
    p.data,
    p.event ? { 'x-sse-event': p.event } : {},
  )
  const delivered = [...(res.body.delivered ?? [])].sort()
  if (res.status !== 202 || delivered.join(',') !== [...topics].sort().join(',')) {
    throw new Error(
      `publish ${p.id} to ${topics.join(',')}: HTTP ${res.status} ${short(JSON.stringify(res.body), 300)} (the client was not subscribed?)${ctx.client.describe()}`,
    )
  }
}

/** The events the client should have reported, in the form it reports them. */
function expected(ctx: ScenarioContext, events: Publish[]): Received[] {
  return events.flatMap((p) =>
    p.topics.map((i) =>
      ctx.transport === 'sse'
        ? {
            type: p.event ?? 'message',
            publisherId: p.id,
            cursor: undefined,
            // SSE carries a body as data lines: any line break comes out as \n.
            data: p.data.replace(/\r\n|\r/g, '\n'),
          }
        : {
            type: p.event ?? null,
            publisherId: p.id,
            cursor: undefined,
            topic: ctx.topics[i] ?? '',
            data: p.data,
          },
    ),
  )
}

/** Compares what arrived with what was published; a description of the first difference. */
function compare(ctx: ScenarioContext, events: Publish[], got: Received[]): string | undefined {
  const want = expected(ctx, events)
  const show = (r: Received | undefined) =>
    r
      ? `{${r.topic !== undefined ? `topic ${r.topic}, ` : ''}type ${r.type}, id ${r.publisherId}, data ${short(JSON.stringify(r.data), 120)}}`
      : 'nothing'
  // WebSocket frames name their topic: order is per topic. SSE events (no envelope) do not.
  const groups = (list: Received[]) => {
    if (ctx.transport === 'sse') return new Map([['', list]])
    const m = new Map<string, Received[]>()
    for (const r of list) m.set(r.topic ?? '', [...(m.get(r.topic ?? '') ?? []), r])
    return m
  }
  const gotBy = groups(got)
  for (const [topic, w] of groups(want)) {
    const g = gotBy.get(topic) ?? []
    gotBy.delete(topic)
    const where = topic ? ` on ${topic}` : ''
    for (let i = 0; i < Math.max(w.length, g.length); i++) {
      const a = w[i]
      const b = g[i]
      const same =
        a &&
        b &&
        a.type === b.type &&
        a.publisherId === b.publisherId &&
        a.data === b.data &&
        (a.topic === undefined || a.topic === b.topic)
      if (same) continue
      if (a && b && a.data !== b.data && a.publisherId === b.publisherId) {
        return `event ${i + 1}${where}: data differs (expected ${a.data.length} chars, got ${b.data.length}; first difference at ${firstDiff(a.data, b.data)}): expected ${show(a)}, got ${show(b)}`
      }
      return `event ${i + 1}${where}: expected ${show(a)}, got ${show(b)}${b && !a ? ' (not published in this cell, or a duplicate)' : ''}`
    }
  }
  for (const [topic, g] of gotBy) return `unexpected events on ${topic}: ${g.map(show).join(', ')}`
  return undefined
}

const isGateway = (r: Received) => r.type?.startsWith('gateway.') === true

function firstDiff(a: string, b: string): number {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return i
}

/**
 * Waits until the client is subscribed: its `gateway.connected` event (sent once the topics are
 * registered), or, for a gateway that does not send it, the admin API listing the connection.
 */
async function waitSubscribed(ctx: ScenarioContext): Promise<void> {
  if (ctx.client.gatewayEvents('gateway.connected').length > 0) return
  let done = false
  const viaEvent = ctx.client.wait(
    () => ctx.client.gatewayEvents('gateway.connected').length > 0,
    10_000,
    'gateway.connected (or the admin API listing the connection)',
  )
  viaEvent.catch(() => {}) // when the admin API answers first, this wait is abandoned
  const viaAdmin = (async () => {
    const topic = encodeURIComponent(ctx.topics[0] ?? '')
    while (!done) {
      const res = await admin<{ items?: unknown[] }>(
        ctx.pubUrl,
        ctx.target.apiKey,
        `/connections?topic=${topic}`,
      ).catch(() => undefined)
      if (res?.status === 200 && (res.body.items?.length ?? 0) > 0) return
      await new Promise((r) => setTimeout(r, 100))
    }
    await new Promise(() => {}) // stopped: the other wait decides
  })()
  try {
    await Promise.race([viaEvent, viaAdmin])
  } finally {
    done = true
  }
}

/** Waits for the client's `n`-th `gateway.connected` event. */
async function waitConnected(ctx: ScenarioContext, n: number, timeoutMs = 10_000): Promise<void> {
  await ctx.client.wait(
    () => ctx.client.gatewayEvents('gateway.connected').length >= n,
    timeoutMs,
    n === 1
      ? 'its gateway.connected event (it names the connection to disconnect)'
      : `gateway.connected #${n}: the client did not reconnect`,
  )
}

/** Disconnects the client's current connection through the admin API. */
/**
 * Waits for the client's second `gateway.connected`. Local workerd keeps a hibernatable
 * WebSocket's TCP connection open after the close handshake while its object is in memory, so a
 * WebSocket client there sees the close only after its own close timeout (npm ws: 30 s, Python
 * websockets: 10 s) and reconnects then: the wait allows for it, and the cell says so.
 */
async function waitReconnected(ctx: ScenarioContext): Promise<void> {
  const workerd = ctx.target.name === 'cf-dev' || ctx.target.name === 'wrangler-dev'
  const slowClose = workerd && ctx.transport === 'ws'
  const started = Date.now()
  await waitConnected(ctx, 2, slowClose ? 45_000 : 20_000)
  if (slowClose && Date.now() - started > 5_000) {
    ctx.notes.add(
      `reconnected ${Math.round((Date.now() - started) / 1000)} s after the server's close: local workerd keeps the TCP connection of a hibernatable WebSocket open after the close handshake, and the client waits its own close timeout (see docs/examples.md, known client quirks)`,
    )
  }
}

async function disconnect(ctx: ScenarioContext): Promise<void> {
  const events = ctx.client.gatewayEvents('gateway.connected')
  const last = events[events.length - 1]
  let connectionId: unknown
  try {
    connectionId = (JSON.parse(last?.data ?? '') as { connectionId?: unknown }).connectionId
  } catch {}
  if (typeof connectionId !== 'string') {
    throw new Error(
      `gateway.connected carries no connectionId: ${short(last?.data ?? '', 200)}${ctx.client.describe()}`,
    )
  }
  const res = await admin(
    ctx.pubUrl,
    ctx.target.apiKey,
    `/connections/${encodeURIComponent(connectionId)}`,
    { method: 'DELETE' },
  )
  if (res.status !== 200) {
    throw new Error(
      `DELETE /admin/api/connections/${connectionId}: HTTP ${res.status} ${short(JSON.stringify(res.body), 300)}`,
    )
  }
}

/**
 * Whether a target resumes: its `gateway.connected` id carries a cursor (`~`). Undefined when it
 * does, otherwise why the resume scenario cannot run there.
 */
export async function probeResume(subUrl: string): Promise<string | undefined> {
  let c: SseClient | undefined
  try {
    c = await SseClient.open(`${subUrl}/sse?topic=interop-probe-${Date.now().toString(36)}`)
    const client = c
    await client.until(
      () => client.gatewayEvents.some((e) => e.event === 'gateway.connected'),
      5000,
      'gateway.connected',
    )
    const ev = client.gatewayEvents.find((e) => e.event === 'gateway.connected')
    return ev?.id?.includes('~')
      ? undefined
      : `this gateway sends no resume cursor (gateway.connected id: ${ev?.id ?? 'none'})`
  } catch (err) {
    return `this gateway sends no gateway.connected event (${(err as Error).message})`
  } finally {
    c?.close()
  }
}
