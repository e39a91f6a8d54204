import {
  EncodedEvent,
  type GatewayEvent,
  type Logger,
  formatWsFrame,
  tailDropFrame,
  tailPublishFrame,
} from '@sse-gateway/core'
import { DurableObject } from 'cloudflare:workers'
import { type Env, type Settings, hubFor, readSettings, registryFor } from './env.ts'
import { createLogger } from './log.ts'
import { type ConnCounters, type Counts, zeroCounts } from './records.ts'
import { acceptSocket, type ConnHeader, CONN_HEADER } from './topic-accept.ts'
import { type SocketAttachment, TopicSockets } from './topic-sockets.ts'
import { type GoneReason, type TopicStream, TopicStreams } from './topic-streams.ts'

const encoder = new TextEncoder()
/** Counter deltas are reported to the registry at most this often per topic. */
const FLUSH_AFTER_MS = 1_000

/** What the topic object answers before a publish: from the headers alone, never the body. */
export interface Probe {
  live: boolean
  /** Admin tails are open: a drop must be shown to them. */
  tails: boolean
}

/**
 * One topic: its subscribers and their fan-out. Named by the topic (`idFromName(topic)`).
 *
 * - SSE subscribers: streams held in memory (an open stream keeps the object awake).
 * - WebSocket subscribers: hibernatable sockets, accepted here when this is their first topic;
 *   for their other topics this object is a "member" record (in storage, so it survives
 *   eviction) and forwards events to the socket's home object.
 * - Admin tails: streams that see publishes and drops, and do not count as subscribers.
 *
 * When the last subscriber leaves, the object deletes what it stored and reports its counters.
 */
export class TopicHub extends DurableObject<Env> {
  readonly #settings: Settings
  readonly #log: Logger
  readonly #streams: TopicStreams
  readonly #sockets: TopicSockets
  /** WebSockets homed elsewhere that also subscribe to this topic: connection id → home topic. */
  readonly #members = new Map<string, string>()
  #topic: string | undefined
  #counts: Counts = zeroCounts()
  #flushTimer: ReturnType<typeof setTimeout> | undefined

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#settings = readSettings(env)
    this.#log = createLogger(this.#settings.logLevel, { node: this.#settings.nodeName })
    this.#sockets = new TopicSockets(ctx)
    this.#streams = new TopicStreams({
      heartbeatMs: this.#settings.heartbeatMs,
      slowConsumerBytes: this.#settings.slowConsumerBytes,
      onGone: (s, reason) => this.#streamGone(s, reason),
    })
    void ctx.blockConcurrencyWhile(async () => {
      const stored = await ctx.storage.list<string>({ prefix: 'm:' })
      for (const [key, home] of stored) this.#members.set(key.slice(2), home)
    })
  }

  get #live(): boolean {
    return this.#streams.subs.size > 0 || this.#members.size > 0 || this.#sockets.has()
  }

  /**
   * The drop decision. `countRequest` is set for the first topic of a publish, so each publish
   * request is counted once; a topic found without subscribers counts as dropped.
   */
  probe(topic: string, countRequest: boolean): Probe {
    this.#topic = topic
    const live = this.#live
    if (countRequest) this.#count('published', 1)
    if (!live) this.#count('dropped', 1)
    return { live, tails: this.#streams.tails.size > 0 }
  }

  /** Delivers one event to every subscriber of this topic; resolves with how many got it. */
  async publish(ev: GatewayEvent): Promise<number> {
    this.#topic = ev.topic
    const enc = new EncodedEvent(ev)
    let n = 0
    let bytes = 0
    for (const s of this.#streams.subs.values()) {
      const b = s.envelope ? enc.sseEnvelope : enc.sse
      if (!this.#streams.write(s, b)) continue
      s.events++
      s.bytes += b.byteLength
      bytes += b.byteLength
      n++
    }
    const local = this.deliver(ev, null)
    n += local.n
    bytes += local.bytes
    if (this.#members.size > 0) {
      const byHome = new Map<string, string[]>()
      for (const [id, home] of this.#members) byHome.set(home, [...(byHome.get(home) ?? []), id])
      const remote = await Promise.all(
        [...byHome].map(([home, ids]) =>
          hubFor(this.env, home)
            .deliver(ev, ids)
            .catch((err: unknown) => {
              this.#log.warn({ err, topic: ev.topic, home }, 'forward to home object failed')
              return { n: 0, bytes: 0 }
            }),
        ),
      )
      for (const r of remote) {
        n += r.n
        bytes += r.bytes
      }
    }
    if (this.#streams.tails.size > 0) {
      const frame = tailPublishFrame(enc, n)
      for (const t of this.#streams.tails) this.#streams.write(t, frame)
    }
    this.#count('delivered', n)
    this.#count('bytesSent', bytes)
    return n
  }

  /**
   * Sends an event to the WebSockets homed here: all of them (`ids` null: this topic's own
   * event) or the listed ones (an event of another topic they also subscribe to).
   */
  deliver(ev: GatewayEvent, ids: string[] | null): { n: number; bytes: number } {
    const frame = formatWsFrame(ev)
    const size = encoder.encode(frame).byteLength
    let n = 0
    const targets = ids === null ? [undefined] : ids
    for (const tag of targets) {
      for (const [ws, att] of this.#sockets.live(tag)) {
        if (this.#sockets.send(ws, att, frame, size)) n++
      }
    }
    return { n, bytes: n * size }
  }

  /** Shows a dropped publish to the admin tails: topic and id only. */
  drop(topic: string, id: string): void {
    if (this.#streams.tails.size === 0) return
    const frame = tailDropFrame(topic, id)
    for (const t of this.#streams.tails) this.#streams.write(t, frame)
  }

  /** Records a WebSocket homed in `home` that also subscribes to this topic. */
  async addMember(topic: string, id: string, home: string): Promise<void> {
    this.#topic = topic
    this.#members.set(id, home)
    await this.ctx.storage.put(`m:${id}`, home)
  }

  async removeMember(id: string): Promise<void> {
    if (!this.#members.delete(id)) return
    await this.ctx.storage.delete(`m:${id}`)
    await this.#maybeClear()
  }

  /** Disconnects one connection held here (admin). False when this object does not hold it. */
  async close(id: string): Promise<boolean> {
    if (this.#streams.close(id)) return true
    let found = false
    for (const [ws, att] of this.#sockets.live(id)) {
      found = true
      this.#sockets.markClosing(ws, att)
      ws.close(4000, 'disconnected by admin')
      await this.#socketGone(att)
    }
    return found
  }

  /** Which of `ids` this object still holds (the registry's sweep asks). */
  holds(ids: string[]): string[] {
    return ids.filter((id) => this.#streams.subs.has(id) || this.#sockets.has(id))
  }

  /** Delivery counters of the listed connections, for the admin listing. */
  counters(ids: string[]): ConnCounters {
    const out: ConnCounters = {}
    for (const id of ids) {
      const s = this.#streams.subs.get(id)
      if (s) out[id] = [s.events, s.bytes]
      for (const [, att] of this.#sockets.live(id)) out[id] = [att.events, att.bytes]
    }
    return out
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const topic = url.searchParams.get('topic') ?? ''
    this.#topic = topic
    if (url.pathname === '/ws') {
      const conn = JSON.parse(request.headers.get(CONN_HEADER) ?? 'null') as ConnHeader
      return acceptSocket({
        env: this.env,
        sockets: this.#sockets,
        conn,
      })
    }
    const kind = url.pathname === '/tail' ? 'tail' : 'sub'
    const body = this.#streams.open({
      id: url.searchParams.get('id') ?? crypto.randomUUID(),
      kind,
      envelope: url.searchParams.get('envelope') === '1',
      heartbeat: url.searchParams.get('hb') !== '0',
      connected: url.searchParams.get('connected') === '1',
      signal: request.signal,
    })
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
  }

  override async webSocketMessage(): Promise<void> {
    // Subscribers only listen; what they send is ignored.
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // Complete the close handshake; 1005/1006 are not codes one may send.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason)
    } catch {
      // Already closed.
    }
    const att = this.#sockets.attachment(ws)
    if (att && !att.closing) await this.#socketGone(att)
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    const att = this.#sockets.attachment(ws)
    if (att && !att.closing) await this.#socketGone(att)
  }

  /** A WebSocket homed here left: forget it in the registry and in its other topics. */
  async #socketGone(att: SocketAttachment): Promise<void> {
    att.closing = true
    const { id, topics } = att
    const shards = this.#settings.registryShards
    await Promise.all([
      registryFor(this.env, shards, id)
        .remove(id)
        .catch((err: unknown) => this.#log.warn({ err, id }, 'registry remove failed')),
      ...topics.slice(1).map((t) =>
        hubFor(this.env, t)
          .removeMember(id)
          .catch((err: unknown) => this.#log.warn({ err, id, topic: t }, 'member remove failed')),
      ),
    ])
    await this.#maybeClear()
  }

  #streamGone(s: TopicStream, reason: GoneReason): void {
    if (s.kind === 'tail') return
    if (reason === 'slow') this.#count('slowConsumerDisconnects', 1)
    const topic = this.#topic
    if (topic !== undefined) {
      registryFor(this.env, this.#settings.registryShards, s.id)
        .removeTopic(s.id, topic)
        .catch((err: unknown) => this.#log.warn({ err, id: s.id }, 'registry remove failed'))
    }
    void this.#maybeClear()
  }

  /** The last subscriber left: delete everything stored and report the counters now. */
  async #maybeClear(): Promise<void> {
    if (this.#live) return
    this.#sockets.persist()
    await this.ctx.storage.deleteAll()
    await this.#flushCounts()
  }

  #count(name: keyof Counts, by: number): void {
    if (by === 0) return
    this.#counts[name] += by
    this.#flushTimer ??= setTimeout(() => void this.#flushCounts(), FLUSH_AFTER_MS)
  }

  /** Reports counter deltas to the registry (one call a second at most, not one per event). */
  async #flushCounts(): Promise<void> {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    const delta = this.#counts
    const topic = this.#topic
    if (topic === undefined || Object.values(delta).every((v) => v === 0)) return
    this.#counts = zeroCounts()
    const registry = registryFor(this.env, this.#settings.registryShards, topic)
    await registry.count(delta).catch((err: unknown) => {
      this.#log.warn({ err, topic }, 'could not report counters')
    })
  }
}
