import {
  type ConnectionInfo,
  type EncodedMessage,
  type ConnectionQuery,
  hasSearch,
  matchesSearch,
  type NodeStats,
  type Page,
  pageOfSorted,
  type SortedConnectionQuery,
  topAfter,
} from '@sse-gateway/core'
import type { LocalConnection, Counters } from './connection.ts'

/** Index of the first key greater than `after` in sorted `keys`. */
function upperBound(keys: readonly string[], after: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((keys[mid] as string) <= after) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** This node's live connections by id. Ids sort by creation, so insertion order is id order. */
export class LocalRegistry {
  readonly #byId = new Map<string, LocalConnection>()
  #sorted: string[] | undefined

  get size(): number {
    return this.#byId.size
  }

  add(conn: LocalConnection): void {
    this.#byId.set(conn.id, conn)
    this.#sorted = undefined
  }

  delete(conn: LocalConnection): boolean {
    if (this.#byId.get(conn.id) !== conn) return false
    this.#byId.delete(conn.id)
    this.#sorted = undefined
    return true
  }

  get(id: string): LocalConnection | undefined {
    return this.#byId.get(id)
  }

  /** Writes a broadcast to every connection here, once each; answers how many took it. */
  broadcast(msg: EncodedMessage): number {
    let n = 0
    for (const conn of this.#byId.values()) if (conn.writeMessage(msg)) n++
    return n
  }

  /** Writes a direct send to one connection here; false when it is not here (or closed). */
  sendTo(id: string, msg: EncodedMessage): boolean {
    return this.#byId.get(id)?.writeMessage(msg) ?? false
  }

  values(): IterableIterator<LocalConnection> {
    return this.#byId.values()
  }

  #keys(): string[] {
    // Ids from one process are monotonic, but sort anyway: ids may come from another process.
    this.#sorted ??= [...this.#byId.keys()].sort()
    return this.#sorted
  }

  page(q: ConnectionQuery): Page<ConnectionInfo> {
    const { topic, search } = q
    if (topic === undefined && !hasSearch(search)) {
      return pageOfSorted(this.#keys(), (k) => this.#byId.get(k)?.info(), q.after, q.limit)
    }
    // From the cursor on, in id order, until one match past the page (so `more` is exact).
    const keys = this.#keys()
    let i = q.after === undefined ? 0 : upperBound(keys, q.after)
    const items: ConnectionInfo[] = []
    for (; i < keys.length; i++) {
      const c = this.#byId.get(keys[i] as string)
      if (!c || (topic !== undefined && !c.topics.includes(topic)) || !matchesSearch(c, search)) {
        continue
      }
      if (items.length === q.limit) return { items, more: true }
      items.push(c.info())
    }
    return { items, more: false }
  }

  /** One page in a sort order: every matching connection here, ordered, cut after the cursor. */
  sortedPage(q: SortedConnectionQuery): Page<ConnectionInfo> {
    const { topic, search } = q
    const matching: ConnectionInfo[] = []
    for (const c of this.#byId.values()) {
      if ((topic !== undefined && !c.topics.includes(topic)) || !matchesSearch(c, search)) continue
      matching.push(c.info())
    }
    return topAfter(matching, q.order, q.after, q.limit)
  }

  nodeStats(node: string, counters: Counters, topics: number): NodeStats {
    return { node, connections: this.size, topics, ...counters, asOf: new Date().toISOString() }
  }
}
