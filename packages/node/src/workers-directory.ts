import {
  type GatewayEvent,
  matchesPrefix,
  type Page,
  pageOfSorted,
  type ReplayLimits,
  ReplayStore,
  type ResumeAsk,
  type TopicHistory,
  type TopicInfo,
  type TopicPresence,
  type TopicQuery,
} from '@sse-gateway/core'

/** One topic's holders on the host: subscribers and tails per worker, and since when it is live. */
interface TopicEntry {
  /** Subscribers per worker key. */
  subs: Map<number, number>
  /** Tails per worker key. */
  tails: Map<number, number>
  since: number
}

/** What the primary must tell the workers after a change: topics gone live, topics gone dead. */
export interface LiveChange {
  live: string[]
  dead: string[]
}

/**
 * The host's directory and sequencer in WORKERS mode, held by the primary process: which worker
 * holds subscribers and tails of each topic, every topic's sequence and replay window (the same
 * ReplayStore the embedded mode uses, so a resume is answered the same whichever worker takes
 * it), and which topics are live. No I/O: the primary wires it to the workers' IPC channels.
 */
export class WorkersDirectory {
  readonly store: ReplayStore
  readonly #topics = new Map<string, TopicEntry>()
  /** Topics without a subscriber kept live until then (LINGER_MS). */
  readonly #lingering = new Map<string, number>()
  /** Connections per worker key. */
  readonly #connections = new Map<number, number>()
  readonly #lingerMs: number
  readonly #now: () => number

  constructor(opts: { replay: ReplayLimits; lingerMs?: number; now?: () => number }) {
    this.#now = opts.now ?? Date.now
    this.store = new ReplayStore(opts.replay, this.#now)
    this.#lingerMs = opts.lingerMs ?? 0
  }

  #entry(topic: string): TopicEntry {
    let e = this.#topics.get(topic)
    if (!e) {
      e = { subs: new Map(), tails: new Map(), since: 0 }
      this.#topics.set(topic, e)
    }
    return e
  }

  /** True while the topic has a subscriber on some worker, or lingers after its last one left. */
  isLive(topic: string): boolean {
    if ((this.#topics.get(topic)?.subs.size ?? 0) > 0) return true
    return this.#lingering.has(topic)
  }

  /** Every live topic (what a new worker starts with). */
  liveTopics(): string[] {
    const out: string[] = []
    for (const [t, e] of this.#topics) if (e.subs.size > 0) out.push(t)
    for (const t of this.#lingering.keys()) if (!this.#topics.get(t)?.subs.size) out.push(t)
    return out
  }

  /** A worker's new connection on `topics`; answers the topics that went live host-wide. */
  attach(worker: number, topics: readonly string[]): string[] {
    this.#connections.set(worker, (this.#connections.get(worker) ?? 0) + 1)
    const live: string[] = []
    for (const t of topics) {
      const e = this.#entry(t)
      const wasLive = this.isLive(t)
      if (e.subs.size === 0) e.since = this.#now()
      e.subs.set(worker, (e.subs.get(worker) ?? 0) + 1)
      this.#lingering.delete(t)
      if (!wasLive) live.push(t)
    }
    return live
  }

  /** Each topic's history for an attach: after the asked position, or its position alone. */
  histories(topics: readonly string[], asks?: ResumeAsk[]): Array<[string, TopicHistory]> {
    return topics.map((t, i) => {
      const ask = asks?.[i]
      return [t, this.store.history(t, ask && 'after' in ask ? ask.after : undefined)]
    })
  }

  /** A worker's connection closed; answers the topics that went dead (none while they linger). */
  detach(worker: number, topics: readonly string[]): string[] {
    const n = (this.#connections.get(worker) ?? 1) - 1
    if (n > 0) this.#connections.set(worker, n)
    else this.#connections.delete(worker)
    const dead: string[] = []
    for (const t of topics) {
      const e = this.#topics.get(t)
      const c = e?.subs.get(worker)
      if (!e || c === undefined) continue
      if (c > 1) e.subs.set(worker, c - 1)
      else e.subs.delete(worker)
      if (e.subs.size === 0) this.#lastLeft(t, e, dead)
    }
    return dead
  }

  #lastLeft(topic: string, e: TopicEntry, dead: string[]): void {
    if (e.tails.size === 0) this.#topics.delete(topic)
    if (this.#lingerMs > 0) this.#lingering.set(topic, this.#now() + this.#lingerMs)
    else dead.push(topic)
  }

  /** Topics whose linger ran out: dead now. */
  expireLingering(): string[] {
    const now = this.#now()
    const dead: string[] = []
    for (const [t, until] of this.#lingering) {
      if (until > now) continue
      this.#lingering.delete(t)
      if (!this.#topics.get(t)?.subs.size) dead.push(t)
    }
    return dead
  }

  addTail(worker: number, topic: string): void {
    const e = this.#entry(topic)
    e.tails.set(worker, (e.tails.get(worker) ?? 0) + 1)
  }

  removeTail(worker: number, topic: string): void {
    const e = this.#topics.get(topic)
    const c = e?.tails.get(worker)
    if (!e || c === undefined) return
    if (c > 1) e.tails.set(worker, c - 1)
    else e.tails.delete(worker)
    if (e.subs.size === 0 && e.tails.size === 0) this.#topics.delete(topic)
  }

  /** Sequences an event; answers it with its position and the workers to send it to. */
  publish(ev: GatewayEvent): { ev: GatewayEvent; to: number[] } {
    const pos = this.store.append(ev.topic, ev)
    return { ev: { ...ev, ...pos }, to: this.holders(ev.topic) }
  }

  /** A dropped publish takes its sequence number; answers the workers holding tails of it. */
  drop(topic: string): number[] {
    this.store.skip(topic)
    return this.tailHolders(topic)
  }

  /** Workers holding tails of the topic. */
  tailHolders(topic: string): number[] {
    return [...(this.#topics.get(topic)?.tails.keys() ?? [])]
  }

  /** Workers holding subscribers or tails of the topic, in worker order. */
  holders(topic: string): number[] {
    const e = this.#topics.get(topic)
    if (!e) return []
    const set = new Set([...e.subs.keys(), ...e.tails.keys()])
    return [...set].sort((a, b) => a - b)
  }

  /** A worker is gone (killed, exited): its entries leave; answers the topics that went dead. */
  removeWorker(worker: number): string[] {
    this.#connections.delete(worker)
    const dead: string[] = []
    for (const [t, e] of [...this.#topics]) {
      e.tails.delete(worker)
      if (!e.subs.delete(worker)) {
        if (e.subs.size === 0 && e.tails.size === 0) this.#topics.delete(t)
        continue
      }
      if (e.subs.size === 0) this.#lastLeft(t, e, dead)
    }
    return dead
  }

  /** Connections on the whole host. */
  connectionCount(): number {
    let n = 0
    for (const c of this.#connections.values()) n += c
    return n
  }

  /** Topics with subscribers on the host. */
  topicCount(): number {
    let n = 0
    for (const e of this.#topics.values()) if (e.subs.size > 0) n++
    return n
  }

  listTopics(q: TopicQuery, nodeOf: (worker: number) => string): Page<TopicInfo> {
    const names = [...this.#topics.keys()].filter((t) => matchesPrefix(t, q.prefix)).sort()
    return pageOfSorted(
      names,
      (topic) => {
        const e = this.#topics.get(topic)
        if (!e || e.subs.size === 0) return undefined
        let subscribers = 0
        for (const c of e.subs.values()) subscribers += c
        const workers = [...e.subs.keys()].sort((a, b) => a - b)
        return {
          topic,
          subscribers,
          nodes: workers.map(nodeOf),
          window: this.store.windowOf(topic) ?? null,
        }
      },
      q.after,
      q.limit,
    )
  }

  presence(topic: string, nodeOf: (worker: number) => string): TopicPresence | null {
    const e = this.#topics.get(topic)
    if (!e || e.subs.size === 0) return null
    const workers = [...e.subs.keys()].sort((a, b) => a - b)
    const nodes = workers.map((w) => ({ node: nodeOf(w), subscribers: e.subs.get(w) ?? 0 }))
    return {
      topic,
      subscribers: nodes.reduce((n, x) => n + x.subscribers, 0),
      nodes,
      since: new Date(e.since).toISOString(),
    }
  }

  /** Lets idle topics' windows go after the age bound, as the embedded mode does. */
  sweep(): void {
    this.store.sweep((t) => this.isLive(t))
  }
}

/**
 * One page of connections from the workers' pages of the same query: ids sort by creation, so
 * the merge is by id. A worker that stopped early (more) bounds the page at where it stopped,
 * so nothing it has not looked at yet is skipped by the next page's cursor.
 */
export function mergeConnectionPages<T extends { id: string }>(
  pages: Array<Page<T>>,
  limit: number,
): Page<T> {
  let bound: string | undefined
  for (const p of pages) {
    if (!p.more) continue
    const k = p.next ?? p.items.at(-1)?.id
    if (k !== undefined && (bound === undefined || k < bound)) bound = k
  }
  let items = pages
    .flatMap((p) => p.items)
    .filter((c) => bound === undefined || c.id <= bound)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  if (items.length > limit) {
    items = items.slice(0, limit)
    return { items, more: true }
  }
  if (bound === undefined) return { items, more: false }
  const last = items.at(-1)?.id
  return last === bound ? { items, more: true } : { items, more: true, next: bound }
}
