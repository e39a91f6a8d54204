import { appendAnswered, appendSent } from './append-gate.ts'
import {
  type ConnectionInfo,
  type ConnectionQuery,
  EncodedEvent,
  EncodedMessage,
  type GatewayEvent,
  LocalHub,
  type Message,
  type NodeInfo,
  type Page,
  type ResumeAsk,
  type Stats,
  type TailSink,
  type TopicHistory,
  type TopicInfo,
  type TopicPresence,
  type TopicQuery,
} from '@sse-gateway/core'
import type { Counters, LocalConnection } from './connection.ts'
import { NODE_ENCODERS } from './frames.ts'
import { LocalRegistry } from './local-registry.ts'
import type { TopicNamespace, TopicStub } from './namespace.ts'
import {
  Batcher,
  type Envelope,
  isEnvelope,
  TAG,
  type ToPrimary,
  type ToWorker,
  type WorkerOp,
} from './workers-ipc.ts'

/** A worker's hub: tail notices go through the primary to the tails of every worker. */
class WorkersHub extends LocalHub {
  readonly #notice: (topic: string, frame: Uint8Array) => void

  constructor(notice: (topic: string, frame: Uint8Array) => void) {
    super()
    this.#notice = notice
  }

  override tailNotice(topic: string, frame: Uint8Array): void {
    this.#notice(topic, frame)
  }
}

/**
 * The namespace of one worker of WORKERS=N without Redis: this worker's subscribers in its own
 * hub, everything host-wide (sequence numbers, replay windows, which worker holds what) asked of
 * the primary over the IPC channel (see workers-primary.ts). The drop decision stays one local
 * look-up: the primary keeps every worker's set of live topics current, and a subscriber's
 * attach is answered only once every worker has its topic live.
 */
export class WorkersNamespace implements TopicNamespace {
  readonly nodeId: string
  /** This worker's subscribers; its tail notices (a resume's gap) go to every worker's tails. */
  readonly hub: LocalHub = new WorkersHub((topic, frame) =>
    this.#out.push({ k: 'notice', topic, frame: Buffer.from(frame).toString() }),
  )
  readonly registry = new LocalRegistry()
  /** This worker's metrics as prom-client's JSON, for the host's `/metrics` (set by the server). */
  metricsJson?: () => Promise<unknown>
  readonly #counters: Counters
  readonly #url: () => string | null
  readonly #startedAt = new Date().toISOString()
  /** Topics with a subscriber on some worker of this host (or lingering), as the primary says. */
  readonly #live = new Set<string>()
  readonly #out: Batcher<ToPrimary>
  readonly #pending = new Map<
    number,
    {
      resolve: (r: unknown) => void
      reject: (e: Error) => void
      /** Run as the answer is read, before the next message of its batch (see `attach`). */
      onAnswer?: (r: unknown) => void
    }
  >()
  #seq = 0
  readonly #onMessage = (m: unknown) => {
    if (!isEnvelope<ToWorker>(m)) return
    for (const msg of m[TAG]) this.#handle(msg)
  }

  constructor(opts: { nodeId: string; counters: Counters; url: () => string | null }) {
    this.nodeId = opts.nodeId
    this.#counters = opts.counters
    this.#url = opts.url
    const send = process.send?.bind(process)
    if (!send) throw new Error('WorkersNamespace runs in a cluster worker (no IPC channel)')
    this.#out = new Batcher((batch) => send({ [TAG]: batch } satisfies Envelope<ToPrimary>))
    process.on('message', this.#onMessage)
  }

  /** Asks the primary for the live topics; done before the server takes traffic. */
  async connect(): Promise<void> {
    // Applied as the answer is read: a `dead` right behind it in the batch must win.
    await this.#req('hello', undefined, (r) => {
      for (const t of (r as { live: string[] }).live) this.#live.add(t)
    })
  }

  #req(op: WorkerOp, a?: unknown, onAnswer?: (r: unknown) => void): Promise<unknown> {
    const id = ++this.#seq
    return new Promise((resolve, reject) => {
      this.#pending.set(id, onAnswer ? { resolve, reject, onAnswer } : { resolve, reject })
      this.#out.push({ k: 'req', id, op, a })
    })
  }

  #settle(id: number, r: unknown, err?: string): void {
    const p = this.#pending.get(id)
    if (!p) return
    this.#pending.delete(id)
    if (err !== undefined) {
      p.reject(new Error(err))
      return
    }
    try {
      p.onAnswer?.(r)
    } catch (e) {
      p.reject(e as Error)
      return
    }
    p.resolve(r)
  }

  #handle(msg: ToWorker): void {
    switch (msg.k) {
      case 'res':
        this.#settle(msg.id, msg.r, msg.err)
        return
      case 'ev': {
        const n = this.hub.publish(new EncodedEvent(msg.ev, NODE_ENCODERS))
        // The origin's backend counts its own delivery from the publish's answer.
        if (msg.req !== undefined) this.#settle(msg.req, n)
        else this.#counters.delivered += n
        return
      }
      case 'drop':
        this.hub.publishDrop(msg.topic, msg.id)
        return
      case 'notice':
        LocalHub.prototype.tailNotice.call(this.hub, msg.topic, Buffer.from(msg.frame))
        return
      case 'dead':
        for (const t of msg.topics) this.#live.delete(t)
        return
      case 'ask':
        if (msg.op === 'metrics') {
          const id = msg.id
          const json = this.metricsJson?.() ?? Promise.resolve(null)
          json.then(
            (r) => this.#out.push({ k: 'res', id, r }),
            () => this.#out.push({ k: 'res', id, r: null }),
          )
          return
        }
        this.#out.push({ k: 'res', id: msg.id, r: this.#answer(msg.op, msg.a) })
        return
    }
  }

  #answer(op: string, a: unknown): unknown {
    switch (op) {
      case 'live':
        for (const t of a as string[]) this.#live.add(t)
        return true
      case 'broadcast': {
        const n = this.registry.broadcast(new EncodedMessage(a as Message, NODE_ENCODERS))
        this.#counters.delivered += n
        return n
      }
      case 'sendTo': {
        const { id, msg } = a as { id: string; msg: Message }
        const sent = this.registry.sendTo(id, new EncodedMessage(msg, NODE_ENCODERS))
        if (sent) this.#counters.delivered++
        return sent
      }
      case 'disconnect': {
        const conn = this.registry.get(a as string)
        if (!conn) return false
        conn.close('disconnected by admin', 4000)
        return true
      }
      case 'stats':
        return this.registry.nodeStats(this.nodeId, this.#counters, this.hub.topicCount)
      case 'node':
        return {
          id: this.nodeId,
          url: this.#url(),
          startedAt: this.#startedAt,
          connections: this.registry.size,
          topics: this.hub.topicCount,
        } satisfies NodeInfo
      case 'listConnections':
        return this.registry.page(a as ConnectionQuery)
      default:
        return null
    }
  }

  idFromName(topic: string): string {
    return topic
  }

  liveNow(topic: string): boolean {
    return this.#live.has(topic) || this.hub.has(topic)
  }

  dropNow(topic: string, id: string): void {
    this.#out.push({ k: 'drop', topic, id })
  }

  get(id: string): TopicStub {
    return {
      probe: async () => this.liveNow(id),
      publish: async (ev: GatewayEvent) => {
        // Numbered by the primary as a cluster node's events are by Redis: this worker's writes
        // wait for the publishes it has in flight (append-gate.ts).
        appendSent()
        try {
          return (await this.#req('publish', ev)) as number
        } finally {
          appendAnswered()
        }
      },
      drop: async (eventId: string) => this.dropNow(id, eventId),
    }
  }

  async attach(conn: LocalConnection, asks?: ResumeAsk[]): Promise<Map<string, TopicHistory>> {
    const topics = [...conn.topics]
    let histories = new Map<string, TopicHistory>()
    // Events sequenced before the answer came ahead of it on the channel; the ones after follow,
    // possibly in the same batch: the connection joins the hub as the answer is read, before
    // the next message, never in a later microtask (an event right behind it would miss it).
    await this.#req('attach', { topics, asks }, (got) => {
      histories = new Map(got as Array<[string, TopicHistory]>)
      if (conn.closed) {
        // Closed while attaching: the primary counted it; let it go again.
        this.#out.push({ k: 'detach', topics })
        return
      }
      // Listed (admin API) only now: a listed connection's topics are live on every worker.
      this.registry.add(conn)
      for (const t of topics) {
        this.hub.add(t, conn)
        this.#live.add(t)
        const h = histories.get(t)
        if (h) this.hub.setPosition(t, { epoch: h.epoch, seq: h.last })
      }
      conn.scope = this.hub.scopeFor(conn.topics)
    })
    return histories
  }

  detach(conn: LocalConnection): void {
    // Still attaching: the attach's answer lets it go.
    if (!this.registry.delete(conn)) return
    for (const t of conn.topics) this.hub.remove(t, conn)
    this.#out.push({ k: 'detach', topics: [...conn.topics] })
  }

  attachTail(topic: string, tail: TailSink): void {
    this.hub.addTail(topic, tail)
    this.#out.push({ k: 'tail', topic, add: true })
  }

  detachTail(topic: string, tail: TailSink): void {
    this.hub.removeTail(topic, tail)
    this.#out.push({ k: 'tail', topic, add: false })
  }

  async listTopics(q: TopicQuery): Promise<Page<TopicInfo>> {
    return (await this.#req('listTopics', q)) as Page<TopicInfo>
  }

  async listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>> {
    return (await this.#req('listConnections', q)) as Page<ConnectionInfo>
  }

  anyConnection(): boolean | Promise<boolean> {
    if (this.registry.size > 0) return true
    return this.#req('anyConnection') as Promise<boolean>
  }

  async broadcast(msg: EncodedMessage): Promise<number> {
    return (await this.#req('broadcast', msg.message)) as number
  }

  async sendTo(id: string, msg: EncodedMessage): Promise<boolean> {
    if (this.registry.get(id)) {
      const sent = this.registry.sendTo(id, msg)
      if (sent) this.#counters.delivered++
      return sent
    }
    return (await this.#req('sendTo', { id, msg: msg.message })) as boolean
  }

  async presence(topic: string): Promise<TopicPresence | null> {
    return (await this.#req('presence', topic)) as TopicPresence | null
  }

  async disconnect(id: string): Promise<boolean> {
    return (await this.#req('disconnect', id)) as boolean
  }

  async stats(): Promise<Stats> {
    return (await this.#req('stats')) as Stats
  }

  /** The host's `/metrics`: every worker's figures, summed by the primary, in the text format. */
  async hostMetrics(): Promise<string> {
    return (await this.#req('metrics')) as string
  }

  async nodes(): Promise<NodeInfo[]> {
    return (await this.#req('nodes')) as NodeInfo[]
  }

  async ready(): Promise<{ ready: boolean; reason?: string }> {
    return { ready: true }
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#out.flush()
  }
}
