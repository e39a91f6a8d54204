import {
  type ConnectionInfo,
  GatewayError,
  type GatewayBackend,
  type GatewayEvent,
  type Logger,
  type Message,
  type NodeInfo,
  type Page,
  type PublishOutcome,
  type RefusalReason,
  SSE_HEADERS,
  type Stats,
  type SubscribeRequest,
  type TopicInfo,
  type TopicHistory,
  type TopicPresence,
  type TopicQuery,
  type ConnectionQuery,
  corsHeaders,
  resumeAsks,
} from '@sse-gateway/core'
import type { Context } from 'hono'
import { type Env, allRegistries, hubFor, registryFor } from './env.ts'
import { mergeTopicStreams, readHistory } from './merge.ts'
import { renderMetrics } from './metrics.ts'
import { planOpening, sseOpening } from './opening.ts'
import { type RegistryTotals, holdersOf } from './records.ts'
import { RegistryClient } from './registry-client.ts'
import type { Settings } from './settings.ts'
import { CONN_HEADER, type ConnHeader, HUB_ORIGIN as HUB, encodeAsk } from './wire.ts'

export type CfContext = Context<{ Bindings: Env }>

/** How long the Worker gathers publish and drop counts before reporting them. */
const COUNT_FLUSH_MS = 1_000

/**
 * The gateway's runtime on Cloudflare: every topic is a `TopicHub` Durable Object, the admin
 * views come from `Registry` objects. The Worker holds no state between requests.
 */
export class CloudflareBackend implements GatewayBackend<CfContext> {
  readonly nodeId: string
  readonly #env: Env
  readonly #settings: Settings
  readonly #log: Logger
  readonly #registry: RegistryClient
  /**
   * Topics whose probe, moments ago, found admin tails: a drop is shown only to those, so the
   * drop path of a topic nobody tails costs one call to its object. A per-request hint, not state.
   */
  readonly #tailed = new Set<string>()
  /** Publish requests and dropped topics not yet reported to the registry (see flushCounts). */
  #counts = { published: 0, dropped: 0 }
  #flushing = false
  /**
   * Calls a request starts and does not wait for (a refused subscription's count): the Worker
   * hands `settled()` to `ctx.waitUntil` so the runtime lets them finish after the response.
   */
  readonly #background = new Set<Promise<unknown>>()

  /** The client's address when the runtime gives none (`cf-connecting-ip`): see worker.ts. */
  readonly #clientAddress: string | null

  constructor(env: Env, settings: Settings, log: Logger, clientAddress?: string) {
    this.#clientAddress = clientAddress ?? null
    this.#env = env
    this.#settings = settings
    this.#log = log
    this.nodeId = settings.nodeName
    this.#registry = new RegistryClient(env, settings)
  }

  async liveTopics(topics: string[]): Promise<string[]> {
    const probes = await Promise.all(topics.map((t) => hubFor(this.#env, t).probe(t)))
    const live: string[] = []
    topics.forEach((t, i) => {
      const p = probes[i]
      if (p?.tails) this.#tailed.add(t)
      else this.#tailed.delete(t)
      if (p?.live) live.push(t)
    })
    this.#counts.published += 1
    this.#counts.dropped += topics.length - live.length
    return live
  }

  /**
   * Sends the publishes and drops this isolate counted to the registry, about a second after
   * the first one, in the background of the request that calls it (the Worker calls it after
   * every request): one registry call a second per isolate, however many topics it drops to.
   * Delivery counters come from the topic objects.
   */
  flushCounts(ctx: ExecutionContext): void {
    if (this.#flushing || (this.#counts.published === 0 && this.#counts.dropped === 0)) return
    this.#flushing = true
    const loop = async () => {
      while (this.#counts.published > 0 || this.#counts.dropped > 0) {
        await new Promise((r) => setTimeout(r, COUNT_FLUSH_MS))
        const delta = this.#counts
        this.#counts = { published: 0, dropped: 0 }
        await registryFor(this.#env, this.#settings.registryShards, this.nodeId)
          .count(delta)
          .catch((err: unknown) => this.#log.warn({ err }, 'could not report counters'))
      }
    }
    ctx.waitUntil(
      loop().finally(() => {
        this.#flushing = false
      }),
    )
  }

  async publish(events: GatewayEvent[]): Promise<{ subscribers: number }> {
    const counts = await Promise.all(events.map((ev) => hubFor(this.#env, ev.topic).publish(ev)))
    return { subscribers: counts.reduce((a, b) => a + b, 0) }
  }

  async dropped(topics: string[], id: string): Promise<void> {
    const tailed = topics.filter((t) => this.#tailed.has(t))
    await Promise.all(
      tailed.map((t) =>
        hubFor(this.#env, t)
          .drop(t, id)
          .catch((err: unknown) => this.#log.warn({ err, topic: t }, 'could not show a drop')),
      ),
    )
  }

  /**
   * The broadcast's drop decision: does any registry shard list a connection? One call with one
   * shard (the default). The first shard counts the broadcast as a publish request, and, when it
   * is the only shard and lists nobody, its drop.
   */
  async anyConnection(): Promise<boolean> {
    const shards = allRegistries(this.#env, this.#settings.registryShards)
    const alone = shards.length === 1
    const found = await Promise.all(shards.map((r, i) => r.anyConnection(i === 0, alone)))
    const any = found.some(Boolean)
    if (!any && !alone) await (shards[0] as (typeof shards)[0]).count({ dropped: 1 })
    return any
  }

  /**
   * A broadcast reaches each connection through its home object (an SSE connection's first
   * topic, whose stream carries its heartbeats; a WebSocket's accepting object), never once per
   * topic: the registry names the homes (one call per shard), then each home writes the message
   * to its own connections (one call per home object, in parallel).
   */
  async broadcast(message: Message): Promise<PublishOutcome> {
    const shards = allRegistries(this.#env, this.#settings.registryShards)
    const homes = new Set((await Promise.all(shards.map((r) => r.homes()))).flat())
    const counts = await Promise.all(
      [...homes].map((h) =>
        hubFor(this.#env, h)
          .broadcast(message)
          .catch((err: unknown) => {
            this.#log.warn({ err, topic: h }, 'broadcast to a topic object failed')
            return 0
          }),
      ),
    )
    return { subscribers: counts.reduce((a, b) => a + b, 0) }
  }

  /** A direct send: the registry says where the connection lives, its home object writes it. */
  async sendTo(connectionId: string, message: Message): Promise<boolean> {
    const registry = registryFor(this.#env, this.#settings.registryShards, connectionId)
    const rec = await registry.lookup(connectionId)
    if (!rec) return false
    const home = rec.home ?? rec.topics[0]
    if (home === undefined) return false
    return hubFor(this.#env, home).sendTo(connectionId, message)
  }

  /**
   * Presence, from the topic's own object (one call): its streams, sockets and members. One
   * node on Cloudflare, named as stats and nodes name it; `since` is when the object's current
   * subscribers began (the first of them came).
   */
  async presence(topic: string): Promise<TopicPresence | null> {
    const p = await hubFor(this.#env, topic).presence(topic)
    if (p === null) return null
    return { ...p, nodes: [{ node: this.nodeId, subscribers: p.subscribers }] }
  }

  /** Counts a refused subscription in the registry, without holding up the refusal. */
  refused(reason: RefusalReason): void {
    const call = registryFor(this.#env, this.#settings.registryShards, 'refused')
      .refused(reason)
      .catch((err: unknown) => this.#log.warn({ err }, 'could not count a refused subscription'))
    this.#background.add(call)
    void call.finally(() => this.#background.delete(call))
  }

  /** The calls requests started and did not wait for (see `#background`); undefined: none. */
  settled(): Promise<unknown> | undefined {
    return this.#background.size === 0 ? undefined : Promise.allSettled([...this.#background])
  }

  /**
   * Opens a subscription. One topic: the topic object's stream is the response, as it is (the
   * object writes the opening and any replay). Several: each object's stream starts with its
   * history; the Worker plans the opening from all of them, then merges the live streams.
   */
  async subscribe(c: CfContext, req: SubscribeRequest): Promise<Response> {
    const conn: ConnHeader = {
      id: req.connectionId,
      topics: req.topics,
      remoteAddress: c.req.header('cf-connecting-ip') ?? this.#clientAddress,
      userAgent: req.userAgent ?? null,
      lastEventId: req.lastEventId ?? null,
      expiresAt: req.expiresAt,
      privateTopics: req.privateTopics,
    }
    if (req.transport === 'ws') return this.#subscribeWs(c, conn)

    const asks = resumeAsks(req.topics, req.lastEventId)
    const single = req.topics.length === 1
    const responses = await Promise.all(
      req.topics.map((topic, i) => {
        const q = new URLSearchParams({
          topic,
          id: conn.id,
          envelope: req.envelope ? '1' : '0',
          hb: i === 0 ? '1' : '0', // one heartbeat per connection, from its first topic
          mode: single ? 'single' : 'part',
        })
        const ask = asks?.[i]
        if (ask) q.set('resume', encodeAsk(ask))
        if (single && req.lastEventId !== undefined) q.set('last', req.lastEventId)
        if (i === 0 && req.expiresAt !== undefined) {
          // The home part ends the connection when its token expires (topic-hub.ts).
          q.set('exp', String(req.expiresAt))
          q.set('priv', JSON.stringify(req.privateTopics ?? []))
        }
        return hubFor(this.#env, topic).fetch(`${HUB}/sse?${q}`, { signal: c.req.raw.signal })
      }),
    )
    const bodies = responses.map((r) => r.body)
    const cancelAll = () => {
      for (const b of bodies) b?.cancel().catch(() => {})
    }
    if (responses.some((r) => !r.ok || r.body === null)) {
      cancelAll()
      throw new GatewayError('unavailable', 'could not open the topic streams; retry')
    }
    const streams = bodies as ReadableStream<Uint8Array>[]
    let body: ReadableStream<Uint8Array>
    let counts: { replayed: number; gaps: number } | undefined
    if (single) {
      body = streams[0] as ReadableStream<Uint8Array>
    } else {
      let parts: Awaited<ReturnType<typeof readHistory>>[]
      try {
        parts = await Promise.all(streams.map((s) => readHistory(s)))
      } catch (cause) {
        cancelAll()
        throw new GatewayError('unavailable', 'could not open the topic streams; retry', { cause })
      }
      const histories = new Map<string, TopicHistory>()
      for (const [i, p] of parts.entries()) histories.set(req.topics[i] as string, p.history)
      const opening = planOpening({
        connectionId: conn.id,
        topics: req.topics,
        asks,
        lastEventId: req.lastEventId,
        histories,
      })
      counts = { replayed: opening.replayed, gaps: opening.gaps }
      body = mergeTopicStreams({
        first: sseOpening(opening, req.envelope),
        topics: req.topics,
        sources: parts.map((p, i) => ({
          topic: req.topics[i] as string,
          reader: p.reader,
          rest: p.rest,
        })),
        positions: opening.positions,
        envelope: req.envelope,
        signal: c.req.raw.signal,
      })
    }
    try {
      const registry = registryFor(this.#env, this.#settings.registryShards, conn.id)
      await registry.add(
        { ...conn, transport: 'sse', home: null, connectedAt: new Date().toISOString() },
        counts,
      )
    } catch (cause) {
      body.cancel().catch(() => {})
      throw new GatewayError('unavailable', 'could not register the connection; retry', { cause })
    }
    return new Response(body, {
      headers: {
        ...SSE_HEADERS,
        ...corsHeaders(this.#settings.corsOrigins, c.req.header('origin') ?? null),
        'access-control-expose-headers': 'x-sse-connection-id',
        'x-sse-connection-id': conn.id,
      },
    })
  }

  /** The upgrade goes to the home object (first topic), which accepts it for hibernation. */
  async #subscribeWs(c: CfContext, conn: ConnHeader): Promise<Response> {
    const home = conn.topics[0] as string
    const headers = new Headers(c.req.raw.headers)
    headers.set(CONN_HEADER, JSON.stringify(conn))
    const url = `${HUB}/ws?${new URLSearchParams({ topic: home })}`
    return hubFor(this.#env, home).fetch(url, { headers })
  }

  async tail(c: CfContext, topic: string): Promise<Response> {
    const q = new URLSearchParams({ topic, connected: '1' })
    const res = await hubFor(this.#env, topic).fetch(`${HUB}/tail?${q}`, {
      signal: c.req.raw.signal,
    })
    return new Response(res.body, {
      headers: {
        ...SSE_HEADERS,
        ...corsHeaders(this.#settings.corsOrigins, c.req.header('origin') ?? null),
      },
    })
  }

  listTopics(q: TopicQuery): Promise<Page<TopicInfo>> {
    return this.#registry.listTopics(q)
  }

  listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>> {
    return this.#registry.listConnections(q)
  }

  async disconnect(id: string): Promise<boolean> {
    const registry = registryFor(this.#env, this.#settings.registryShards, id)
    const rec = await registry.lookup(id)
    if (!rec) return false
    const closed = await Promise.all(holdersOf(rec).map((h) => hubFor(this.#env, h).close(id)))
    if (closed.some(Boolean)) return true
    await registry.remove(id) // a row nobody held: the stream was already gone
    return false
  }

  async stats(): Promise<Stats> {
    return this.#statsOf(await this.#registry.totals())
  }

  /** `GET /metrics`: the deployment's counters, read once (refusals by reason beside them). */
  async metrics(): Promise<string> {
    const totals = await this.#registry.totals()
    return renderMetrics(this.#statsOf(totals), totals.refusedByReason)
  }

  #statsOf(totals: RegistryTotals): Stats {
    const { createdAt: _, refusedByReason: __, ...t } = totals
    // The registry's totals are read now: they are as of this request (NodeStats.asOf).
    const asOf = new Date().toISOString()
    return { ...t, asOf, nodes: [{ node: this.nodeId, ...t, asOf }] }
  }

  async nodes(): Promise<NodeInfo[]> {
    const t = await this.#registry.totals()
    return [
      {
        id: this.nodeId,
        url: null,
        startedAt: new Date(t.createdAt).toISOString(),
        connections: t.connections,
        topics: t.topics,
      },
    ]
  }

  async ready(): Promise<{ ready: boolean; reason?: string }> {
    return { ready: true }
  }
}
