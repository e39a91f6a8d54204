import {
  pageOfSorted,
  type ConnectionInfo,
  type EncodedMessage,
  type Page,
  type NodeStats,
} from '@sse-gateway/core'
import type { LocalConnection, Counters } from './connection.ts'

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

  page(q: {
    after: string | undefined
    limit: number
    topic: string | undefined
  }): Page<ConnectionInfo> {
    const { topic } = q
    if (topic === undefined) {
      return pageOfSorted(this.#keys(), (k) => this.#byId.get(k)?.info(), q.after, q.limit)
    }
    const keys = this.#keys().filter((k) => this.#byId.get(k)?.topics.includes(topic))
    return pageOfSorted(keys, (k) => this.#byId.get(k)?.info(), q.after, q.limit)
  }

  nodeStats(node: string, counters: Counters, topics: number): NodeStats {
    return { node, connections: this.size, topics, ...counters, asOf: new Date().toISOString() }
  }
}
