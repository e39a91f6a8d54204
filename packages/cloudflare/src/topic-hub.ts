import {
  EncodedEvent,
  EncodedMessage,
  GATEWAY_EVENTS,
  type GatewayEvent,
  type Logger,
  type Message,
  type ResumeAsk,
  type TopicHistory,
  type TopicPresence,
  cursorPart,
  errorResponse,
  formatWsFrame,
  gatewaySseFrame,
  gatewayWsFrame,
  resumeAsks,
  tailDropFrame,
  tailGapFrame,
  tailReplayFrame,
  tailPublishFrame,
  tokenExpiredData,
} from '@sse-gateway/core'
import { DurableObject } from 'cloudflare:workers'
import { type Env, hubFor, registryFor } from './env.ts'
import { createLogger } from './log.ts'
import { type Opening, gapsOf, planOpening, sseOpening, wsOpening } from './opening.ts'
import { type ConnCounters, type Counts, zeroCounts } from './records.ts'
import { ReplayWindow } from './replay-window.ts'
import type { Probe, TopicHubApi } from './rpc.ts'
import { type Settings, settingsOf } from './settings.ts'
import { type SocketAttachment, TopicSockets } from './topic-sockets.ts'
import { type GoneReason, type TopicStream, TopicStreams } from './topic-streams.ts'
import { CONN_HEADER, type ConnHeader, historyFrame, parseAsk } from './wire.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** The longest delay setTimeout takes (about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** Counter deltas are reported to the registry at most this often per topic. */
const FLUSH_AFTER_MS = 1_000

const afterOf = (ask: ResumeAsk | undefined) => (ask && 'after' in ask ? ask.after : undefined)

/** A socket's cursor: every topic's position it holds, in its subscription's order. */
function socketCursor(att: SocketAttachment): string {
  let out = '1'
  for (let i = 0; i < att.topics.length; i++) {
    const p = att.pos[i]
    if (p) out += `.${cursorPart(att.topics[i] as string, { epoch: p[0], seq: p[1] })}`
  }
  return out
}

/**
 * One topic: its subscribers, their fan-out, and the topic's replay window. Named by the topic
 * (`idFromName(topic)`).
 *
 * - SSE subscribers: streams held in memory (an open stream keeps the object awake).
 * - WebSocket subscribers: hibernatable sockets, accepted here when this is their first topic;
 *   for their other topics this object is a "member" record (in storage, so it survives
 *   eviction) and forwards events to the socket's home object.
 * - Admin tails: streams that see publishes, drops and resume gaps; not subscribers.
 * - The replay window (SQLite): every publish takes the topic's next sequence number, and so does
 *   a drop once the topic has a history; a resuming subscriber gets what it missed.
 *
 * When the last subscriber leaves the topic lingers for LINGER_MS (publishes are kept, not
 * dropped); once its window has aged out (REPLAY_AGE_MS), an alarm deletes what it stored.
 */
export class TopicHub extends DurableObject<Env> implements TopicHubApi {
  readonly #settings: Settings
  readonly #log: Logger
  readonly #streams: TopicStreams
  readonly #sockets: TopicSockets
  readonly #window: ReplayWindow
  /** WebSockets homed elsewhere that also subscribe to this topic: connection id → home topic. */
  readonly #members = new Map<string, string>()
  /** WebSockets being accepted here: events for them wait until their opening is sent. */
  readonly #pending = new Map<string, GatewayEvent[]>()
  /** The topic stays live until then after its last subscriber left (LINGER_MS). */
  #lingerUntil = 0
  #topic: string | undefined
  /** When the topic last went from no subscriber to one (ms since the epoch; presence's `since`). */
  #since: number | undefined
  /** SSE streams whose subscriber token expires: connection id → the timer that ends them. */
  readonly #expiries = new Map<string, ReturnType<typeof setTimeout>>()
  #counts: Counts = zeroCounts()
  #flushTimer: ReturnType<typeof setTimeout> | undefined

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#settings = settingsOf(env)
    this.#log = createLogger(this.#settings.logLevel, { node: this.#settings.nodeName })
    this.#sockets = new TopicSockets(ctx)
    this.#window = new ReplayWindow(ctx.storage.sql, this.#settings.replay)
    this.#streams = new TopicStreams({
      heartbeatMs: this.#settings.heartbeatMs,
      disconnectCheckMs: this.#settings.disconnectCheckMs,
      slowConsumerBytes: this.#settings.slowConsumerBytes,
      onGone: (s, reason) => this.#streamGone(s, reason),
    })
    // Synchronous reads (SQLite-backed storage): a new object serves its first probe at once.
    for (const [key, home] of ctx.storage.kv.list<string>({ prefix: 'm:' })) {
      this.#members.set(key.slice(2), home)
    }
    this.#lingerUntil = ctx.storage.kv.get<number>('linger') ?? 0
    this.#since = ctx.storage.kv.get<number>('since')
  }

  /** A subscriber is about to join: the first one since the topic was empty starts `since`. */
  #joining(): void {
    if (this.#subscribed && this.#since !== undefined) return
    this.#since = Date.now()
    this.ctx.storage.kv.put('since', this.#since)
  }

  /** A subscriber of any kind is here (or being accepted). */
  get #subscribed(): boolean {
    return (
      this.#streams.subs.size > 0 ||
      this.#members.size > 0 ||
      this.#pending.size > 0 ||
      this.#sockets.has()
    )
  }

  /** Publishes are delivered and kept, not dropped: a subscriber is here, or the topic lingers. */
  get #live(): boolean {
    return this.#subscribed || Date.now() < this.#lingerUntil
  }

  /**
   * The drop decision. A drop takes the topic's next sequence number: a client that resumes is
   * told it missed it. The Worker counts publishes and drops itself (CloudflareBackend), so a
   * topic that only ever drops never calls the registry.
   */
  probe(topic: string): Probe {
    this.#topic = topic
    const live = this.#live
    if (!live) this.#window.skip()
    return { live, tails: this.#streams.tails.size > 0 }
  }

  /** Keeps one event in the window and delivers it to every subscriber; resolves with how many got it. */
  async publish(ev: GatewayEvent): Promise<number> {
    this.#topic = ev.topic
    const { epoch, seq } = this.#window.append(ev)
    const enc = new EncodedEvent({
      topic: ev.topic,
      id: ev.id,
      event: ev.event,
      data: ev.data,
      epoch,
      seq,
    })
    let n = 0
    let bytes = 0
    for (const s of this.#streams.subs.values()) {
      const b = s.envelope ? enc.sseEnvelope() : enc.sse()
      if (!this.#streams.write(s, b)) continue
      s.events++
      s.bytes += b.byteLength
      bytes += b.byteLength
      n++
    }
    const local = this.deliver(enc, null)
    n += local.n
    bytes += local.bytes
    if (this.#members.size > 0) {
      const byHome = new Map<string, string[]>()
      for (const [id, home] of this.#members) byHome.set(home, [...(byHome.get(home) ?? []), id])
      const plain: GatewayEvent = {
        topic: enc.topic,
        id: enc.id,
        event: enc.event,
        data: enc.data,
        epoch,
        seq,
      }
      const remote = await Promise.all(
        [...byHome].map(([home, ids]) =>
          hubFor(this.env, home)
            .deliver(plain, ids)
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
   * event) or the listed ones (an event of another topic they also subscribe to). A socket still
   * being accepted gets it after its opening.
   */
  deliver(ev: GatewayEvent, ids: string[] | null): { n: number; bytes: number } {
    const enc = ev instanceof EncodedEvent ? ev : new EncodedEvent(ev)
    const frames = new Map<string, [string, number]>()
    let n = 0
    let bytes = 0
    const sendTo = (tag: string | undefined) => {
      for (const [ws, att] of this.#sockets.live(tag)) {
        if (this.#expired(ws, att)) continue
        const f = this.#wsFrame(enc, att, frames)
        if (f && this.#sockets.send(ws, att, f[0], f[1])) {
          n++
          bytes += f[1]
        }
      }
    }
    if (ids === null) sendTo(undefined)
    else {
      for (const id of ids) {
        const held = this.#pending.get(id)
        if (held) held.push(enc)
        else sendTo(id)
      }
    }
    return { n, bytes }
  }

  /** The frame of `enc` for one socket (its whole cursor), or null when the socket has it already. */
  #wsFrame(
    enc: EncodedEvent,
    att: SocketAttachment,
    cache: Map<string, [string, number]>,
  ): [string, number] | null {
    const i = att.topics.indexOf(enc.topic)
    let cursor = ''
    if (enc.seq !== undefined && enc.epoch !== undefined && i !== -1) {
      const p = att.pos[i]
      if (p && p[0] === enc.epoch && enc.seq <= p[1]) return null
      att.pos[i] = [enc.epoch, enc.seq]
      cursor = socketCursor(att)
    }
    let f = cache.get(cursor)
    if (!f) {
      const text = formatWsFrame(enc, cursor === '' ? undefined : cursor)
      f = [text, encoder.encode(text).byteLength]
      cache.set(cursor, f)
    }
    return f
  }

  /**
   * A broadcast, to every connection whose home is this object, once each: the SSE streams of
   * connections whose first topic this is (the stream that carries their heartbeats; a
   * multi-topic stream's other parts live in other objects and are skipped there) and the
   * WebSockets accepted here. The frame is encoded once per wire format; nothing is awaited.
   */
  broadcast(message: Message): number {
    const enc = new EncodedMessage(message)
    let n = 0
    let bytes = 0
    for (const s of this.#streams.subs.values()) {
      if (!s.heartbeat) continue
      const b = this.#writeMessage(s, enc)
      if (b < 0) continue
      n++
      bytes += b
    }
    let text: string | undefined
    for (const [ws, att] of this.#sockets.live()) {
      if (this.#expired(ws, att)) continue
      text ??= decoder.decode(enc.json())
      const size = enc.json().byteLength
      if (!this.#sockets.send(ws, att, text, size)) continue
      n++
      bytes += size
    }
    this.#count('delivered', n)
    this.#count('bytesSent', bytes)
    return n
  }

  /** A direct send to connection `id`, if this object is its home; false otherwise. */
  sendTo(id: string, message: Message): boolean {
    const enc = new EncodedMessage(message)
    let bytes = -1
    const s = this.#streams.subs.get(id)
    if (s) bytes = this.#writeMessage(s, enc)
    else {
      for (const [ws, att] of this.#sockets.live(id)) {
        if (this.#expired(ws, att)) continue
        const size = enc.json().byteLength
        if (this.#sockets.send(ws, att, decoder.decode(enc.json()), size)) bytes = size
      }
    }
    if (bytes < 0) return false
    this.#count('directSends', 1)
    this.#count('delivered', 1)
    this.#count('bytesSent', bytes)
    return true
  }

  /** Writes a message to one SSE stream: the bytes written, or -1 when the stream is gone. */
  #writeMessage(s: TopicStream, enc: EncodedMessage): number {
    const b = s.envelope ? enc.sseEnvelope() : enc.sse()
    if (!this.#streams.write(s, b)) return -1
    s.events++
    s.bytes += b.byteLength
    return b.byteLength
  }

  /**
   * Who is subscribed to this topic here: its SSE streams (whatever the connection's other
   * topics), the WebSockets homed here (their first topic) and those homed elsewhere (members).
   * Tails are not subscribers. Null when there is none.
   */
  presence(topic: string): Omit<TopicPresence, 'nodes'> | null {
    this.#topic = topic
    let subscribers = this.#streams.subs.size + this.#members.size
    for (const _ of this.#sockets.live()) subscribers++
    if (subscribers === 0) return null
    const since = new Date(this.#since ?? Date.now()).toISOString()
    return { topic, subscribers, since }
  }

  /** Shows a dropped publish to the admin tails: topic and id only. */
  drop(topic: string, id: string): void {
    if (this.#streams.tails.size === 0) return
    const frame = tailDropFrame(topic, id)
    for (const t of this.#streams.tails) this.#streams.write(t, frame)
  }

  /**
   * Records a WebSocket homed in `home` that also subscribes to this topic, and answers with the
   * topic's history for its opening (read at the same moment: every later event is forwarded).
   */
  async addMember(topic: string, id: string, home: string, ask?: ResumeAsk): Promise<TopicHistory> {
    this.#topic = topic
    this.#joining()
    this.#members.set(id, home)
    const history = this.#window.history(afterOf(ask))
    if (ask) {
      const opening = planOpening({
        connectionId: id,
        topics: [topic],
        asks: [ask],
        lastEventId: undefined,
        histories: new Map([[topic, history]]),
      })
      this.#tailGaps(opening, id)
    }
    this.ctx.storage.kv.put(`m:${id}`, home)
    return history
  }

  async removeMember(id: string): Promise<void> {
    if (!this.#members.delete(id)) return
    this.ctx.storage.kv.delete(`m:${id}`)
    await this.#maybeIdle()
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

  /** The replay window's size (admin topic listing); null when the topic has none yet. */
  windowSize(): { events: number; bytes: number } | null {
    return this.#window.size()
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const topic = url.searchParams.get('topic') ?? ''
    this.#topic = topic
    if (url.pathname === '/ws') {
      const conn = JSON.parse(request.headers.get(CONN_HEADER) ?? 'null') as ConnHeader | null
      return this.#acceptSocket(conn)
    }
    if (url.pathname === '/tail') {
      const { body } = this.#streams.open({
        id: crypto.randomUUID(),
        kind: 'tail',
        envelope: false,
        heartbeat: true,
        connected: true,
        signal: request.signal,
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    }
    return this.#openStream(url, topic, request.signal)
  }

  /**
   * A subscriber's SSE stream. Alone (`mode=single`), it is the whole response: the object writes
   * the opening (`: connected`, `gateway.connected`, a resume's gaps and replay) and the live
   * events, and the Worker passes the bytes through. As one part of a multi-topic subscription
   * (`mode=part`), it starts with the topic's history for the Worker to plan the opening.
   * Either way the history is read and the stream joins the fan-out in one step: nothing is
   * published in between.
   */
  #openStream(url: URL, topic: string, signal: AbortSignal): Response {
    const id = url.searchParams.get('id') ?? crypto.randomUUID()
    const envelope = url.searchParams.get('envelope') === '1'
    const ask = parseAsk(url.searchParams.get('resume'))
    const history = this.#window.history(afterOf(ask))
    this.#joining()
    const { stream, body } = this.#streams.open({
      id,
      kind: 'sub',
      envelope,
      heartbeat: url.searchParams.get('hb') !== '0',
      connected: false,
      signal,
    })
    const opening =
      ask || url.searchParams.get('mode') !== 'part'
        ? planOpening({
            connectionId: id,
            topics: [topic],
            asks: ask ? [ask] : undefined,
            lastEventId: url.searchParams.get('last') ?? undefined,
            histories: new Map([[topic, history]]),
          })
        : undefined
    if (url.searchParams.get('mode') === 'part') {
      this.#streams.writeAhead(stream, encoder.encode(historyFrame(history)))
    } else if (opening) {
      this.#streams.writeAhead(stream, sseOpening(opening, envelope))
      this.#count('replayed', opening.replayed)
      this.#count('gaps', opening.gaps)
    }
    if (opening && ask) this.#tailGaps(opening, id)
    const exp = Number(url.searchParams.get('exp') ?? Number.NaN)
    if (Number.isFinite(exp)) {
      const priv = JSON.parse(url.searchParams.get('priv') ?? '[]') as string[]
      this.#expireStreamAt(stream, exp, priv)
    }
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
  }

  /**
   * Ends an SSE stream when its subscriber token expires: `gateway.token-expired` (no `id:`,
   * so the client's resume position stays), then a clean end. A stream keeps its object in
   * memory, so a timer is enough; a merged multi-topic response ends with this, its home part.
   */
  #expireStreamAt(s: TopicStream, expiresAt: number, privateTopics: string[]): void {
    const wait = expiresAt - Date.now()
    const timer = setTimeout(
      () => {
        if (this.#streams.subs.get(s.id) !== s) return
        if (Date.now() < expiresAt) {
          this.#expireStreamAt(s, expiresAt, privateTopics)
          return
        }
        const data = tokenExpiredData(privateTopics, expiresAt)
        this.#streams.write(s, encoder.encode(gatewaySseFrame(GATEWAY_EVENTS.tokenExpired, data)))
        this.#streams.close(s.id)
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    )
    this.#expiries.set(s.id, timer)
  }

  /**
   * A socket whose token has expired is ended now (true), with `gateway.token-expired` and close
   * 1008: the alarm does it on time, an event or broadcast that comes first does it then.
   */
  #expired(ws: WebSocket, att: SocketAttachment): boolean {
    if (att.expiresAt === undefined || att.expiresAt > Date.now()) return false
    void this.#expireSocket(ws, att)
    return true
  }

  async #expireSocket(ws: WebSocket, att: SocketAttachment): Promise<void> {
    if (att.closing || att.expiresAt === undefined) return
    const data = tokenExpiredData(att.privateTopics ?? [], att.expiresAt)
    this.#sockets.markClosing(ws, att)
    try {
      ws.send(gatewayWsFrame(GATEWAY_EVENTS.tokenExpired, data))
      ws.close(1008, 'token expired')
    } catch {
      // Closed meanwhile.
    }
    await this.#socketGone(att)
  }

  /** The earliest token expiry of the sockets homed here. */
  #nextExpiry(): number | undefined {
    let next: number | undefined
    for (const [, att] of this.#sockets.live()) {
      if (att.expiresAt !== undefined && (next === undefined || att.expiresAt < next)) {
        next = att.expiresAt
      }
    }
    return next
  }

  /** Sets the object's alarm for a token expiry, unless it rings earlier already. */
  async #alarmBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm()
    if (current === null || current > at) await this.ctx.storage.setAlarm(at)
  }

  /**
   * Accepts a WebSocket subscriber in its home object (its first topic), for hibernation: the
   * runtime holds the socket while the object sleeps, and wakes it for an event or a close.
   * Before the upgrade is answered, the socket's other topics record it as a member and answer
   * with their history (events they publish from then on are forwarded here and held until the
   * opening is sent), the opening is sent, and the registry lists the connection.
   */
  async #acceptSocket(conn: ConnHeader | null): Promise<Response> {
    if (!conn?.id || !Array.isArray(conn.topics) || conn.topics.length === 0) {
      return errorResponse('bad_request', 'missing connection header')
    }
    const topics = conn.topics
    const asks = resumeAsks(topics, conn.lastEventId ?? undefined)
    const [home, ...others] = topics as [string, ...string[]]
    this.#joining()
    this.#pending.set(conn.id, [])
    let theirs: TopicHistory[]
    try {
      theirs = await Promise.all(
        others.map((t, i) => hubFor(this.env, t).addMember(t, conn.id, home, asks?.[i + 1])),
      )
    } catch (cause) {
      this.#pending.delete(conn.id)
      await Promise.allSettled(others.map((t) => hubFor(this.env, t).removeMember(conn.id)))
      throw cause
    }
    const histories = new Map<string, TopicHistory>([
      [home, this.#window.history(afterOf(asks?.[0]))],
    ])
    for (const [i, t] of others.entries()) histories.set(t, theirs[i] as TopicHistory)
    const lastEventId = conn.lastEventId ?? undefined
    const opening = planOpening({ connectionId: conn.id, topics, asks, lastEventId, histories })
    const { 0: client, 1: server } = new WebSocketPair()
    const connectedAt = new Date().toISOString()
    this.#sockets.accept(server, {
      id: conn.id,
      topics,
      connectedAt,
      remoteAddress: conn.remoteAddress,
      userAgent: conn.userAgent,
      events: 0,
      bytes: 0,
      pos: topics.map((t) => {
        const p = opening.positions.get(t)
        return p ? [p.epoch, p.seq] : null
      }),
      ...(typeof conn.expiresAt === 'number'
        ? { expiresAt: conn.expiresAt, privateTopics: conn.privateTopics ?? [] }
        : {}),
    })
    for (const frame of wsOpening(opening)) server.send(frame)
    const held = this.#pending.get(conn.id) ?? []
    this.#pending.delete(conn.id)
    for (const ev of held) this.deliver(ev, [conn.id])
    this.#count('replayed', opening.replayed)
    this.#count('gaps', opening.gaps)
    if (asks) this.#tailGaps(opening, conn.id)
    // A hibernated socket has no timer: the object's alarm wakes it when the token expires.
    if (typeof conn.expiresAt === 'number') await this.#alarmBy(conn.expiresAt)
    await registryFor(this.env, this.#settings.registryShards, conn.id).add({
      id: conn.id,
      transport: 'ws',
      topics,
      home,
      connectedAt,
      remoteAddress: conn.remoteAddress,
      userAgent: conn.userAgent,
    })
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { 'x-sse-connection-id': conn.id },
    })
  }

  /** Tells this topic's tails that a resuming connection was told it missed events here, and what was replayed to it. */
  #tailGaps(opening: Opening, connectionId: string): void {
    const topic = this.#topic
    if (this.#streams.tails.size === 0 || topic === undefined) return
    for (const g of gapsOf(opening, topic)) {
      const frame = tailGapFrame(topic, { connectionId, reason: g.reason, missed: g.missed })
      for (const t of this.#streams.tails) this.#streams.write(t, frame)
    }
    const replayed = opening.items.filter((i) => i.kind === 'event').length
    if (replayed > 0) {
      const frame = tailReplayFrame(topic, { connectionId, replayed })
      for (const t of this.#streams.tails) this.#streams.write(t, frame)
    }
  }

  override async webSocketMessage(): Promise<void> {
    // Subscribers only listen; what they send is ignored.
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(echoCode(code), reason)
    } catch {
      // Already closed.
    }
    const att = this.#sockets.attachment(ws)
    if (att && !att.closing) await this.#socketGone(att)
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    // The runtime refused what the client sent (a malformed frame: an oversized control frame,
    // bad UTF-8…): end it with a protocol error rather than leaving the socket open and silent.
    try {
      ws.close(1002, 'protocol error')
    } catch {
      // Already closed.
    }
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
    await this.#maybeIdle()
  }

  #streamGone(s: TopicStream, reason: GoneReason): void {
    if (s.kind === 'tail') return
    const timer = this.#expiries.get(s.id)
    if (timer !== undefined) {
      clearTimeout(timer)
      this.#expiries.delete(s.id)
    }
    if (reason === 'slow') this.#count('slowConsumerDisconnects', 1)
    const topic = this.#topic
    if (topic !== undefined) {
      registryFor(this.env, this.#settings.registryShards, s.id)
        .removeTopic(s.id, topic)
        .catch((err: unknown) => this.#log.warn({ err, id: s.id }, 'registry remove failed'))
    }
    void this.#maybeIdle()
  }

  /**
   * The last subscriber left: the topic lingers (LINGER_MS), its counters are reported now, and
   * an alarm will delete what it stored once its window has aged out.
   */
  async #maybeIdle(): Promise<void> {
    if (this.#subscribed) return
    this.#since = undefined
    this.ctx.storage.kv.delete('since')
    this.#sockets.persist()
    const { lingerMs, replay } = this.#settings
    const now = Date.now()
    if (lingerMs > 0) {
      this.#lingerUntil = now + lingerMs
      this.ctx.storage.kv.put('linger', this.#lingerUntil)
    }
    if (this.#window.started || lingerMs > 0) {
      await this.ctx.storage.setAlarm(now + lingerMs + replay.ageMs)
    }
    await this.#flushCounts()
  }

  /**
   * An idle topic whose window has aged out is forgotten: its storage is deleted (a client that
   * resumes later is told `reset`). A topic with subscribers again is left alone: the alarm is
   * set anew when they leave.
   */
  override async alarm(): Promise<void> {
    const now0 = Date.now()
    for (const [ws, att] of [...this.#sockets.live()]) {
      if (att.expiresAt !== undefined && att.expiresAt <= now0) await this.#expireSocket(ws, att)
    }
    if (this.#subscribed) {
      const next = this.#nextExpiry()
      if (next !== undefined) await this.ctx.storage.setAlarm(next)
      return
    }
    const now = Date.now()
    const ageMs = this.#settings.replay.ageMs
    const newest = Math.max(this.#window.newest() ?? 0, this.#lingerUntil)
    if (newest + ageMs > now) {
      await this.ctx.storage.setAlarm(newest + ageMs)
      return
    }
    this.#lingerUntil = 0
    await this.ctx.storage.deleteAll()
    this.#window.forgotten()
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

/**
 * The code to answer a client's close frame with, completing the handshake: its own when one may
 * send it, 1000 for "no code" (1005/1006), 1002 (protocol error) for a code no endpoint may send
 * (workerd throws on those, which would leave the socket open and silent).
 */
function echoCode(code: number): number {
  if (code === 1005 || code === 1006) return 1000
  const sendable =
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  return sendable ? code : 1002
}
