import type { ConnectionQuery, Page, RefusalReason } from '@sse-gateway/core'
import { DurableObject } from 'cloudflare:workers'
import { type Env, hubFor } from './env.ts'
import {
  COUNT_NAMES,
  type ConnRecord,
  type Counts,
  holdersOf,
  type RegistryTotals,
} from './records.ts'
import type { RegistryApi } from './rpc.ts'

/** A row older than this is checked against the objects that should hold it. */
export const SWEEP_AFTER_MS = 120_000
const SWEEP_EVERY_MS = 60_000
const SWEEP_BATCH = 1_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS conns (
  id TEXT PRIMARY KEY, transport TEXT NOT NULL, topics TEXT NOT NULL, home TEXT,
  connected_at TEXT NOT NULL, remote TEXT, ua TEXT, seen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS conns_seen ON conns(seen);
CREATE TABLE IF NOT EXISTS conn_topics (topic TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (topic, id));
CREATE INDEX IF NOT EXISTS conn_topics_id ON conn_topics(id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`

type Row = Record<string, SqlStorageValue>

function toRecord(r: Row): ConnRecord {
  return {
    id: r.id as string,
    transport: r.transport === 'ws' ? 'ws' : 'sse',
    topics: JSON.parse(r.topics as string) as string[],
    home: (r.home as string | null) ?? null,
    connectedAt: r.connected_at as string,
    remoteAddress: (r.remote as string | null) ?? null,
    userAgent: (r.ua as string | null) ?? null,
  }
}

/**
 * The admin API's view of the deployment: live connections (and through them, topics) and the
 * counters, in SQLite so listings page in key order. Workers hold nothing between requests and
 * run as many copies, so this object, not Worker memory, is what the admin API reads.
 *
 * Writes: the Worker adds a connection once it is open; the topic objects remove it when they
 * notice it left. A row that nobody removed (an object reset by a deploy) is found by the sweep.
 */
export class Registry extends DurableObject<Env> implements RegistryApi {
  readonly #sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.#sql = ctx.storage.sql
    this.#sql.exec(SCHEMA)
    this.#sql.exec(
      "INSERT OR IGNORE INTO counters (name, value) VALUES ('createdAt', ?)",
      Date.now(),
    )
  }

  /**
   * Records a new connection, with what its opening counted (a resume's replay and gaps, when
   * the Worker planned it). Idempotent: a second add with the same id changes nothing.
   */
  async add(rec: ConnRecord, counts?: Partial<Counts>): Promise<void> {
    const exists = this.#sql.exec('SELECT 1 FROM conns WHERE id = ?', rec.id).toArray().length > 0
    if (exists) return
    if (counts) this.count(counts)
    this.#sql.exec(
      'INSERT INTO conns (id, transport, topics, home, connected_at, remote, ua, seen) VALUES (?,?,?,?,?,?,?,?)',
      rec.id,
      rec.transport,
      JSON.stringify(rec.topics),
      rec.home,
      rec.connectedAt,
      rec.remoteAddress,
      rec.userAgent,
      Date.now(),
    )
    for (const t of rec.topics) {
      this.#sql.exec('INSERT OR IGNORE INTO conn_topics (topic, id) VALUES (?, ?)', t, rec.id)
    }
    this.#bump('connectionsTotal', 1)
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS)
    }
  }

  /** One topic's stream of connection `id` ended; the connection goes with its last topic. */
  removeTopic(id: string, topic: string): void {
    this.#sql.exec('DELETE FROM conn_topics WHERE topic = ? AND id = ?', topic, id)
    const left = this.#sql.exec('SELECT 1 FROM conn_topics WHERE id = ? LIMIT 1', id).toArray()
    if (left.length === 0) this.#sql.exec('DELETE FROM conns WHERE id = ?', id)
  }

  /** Forgets connection `id` altogether. */
  remove(id: string): void {
    this.#sql.exec('DELETE FROM conn_topics WHERE id = ?', id)
    this.#sql.exec('DELETE FROM conns WHERE id = ?', id)
  }

  lookup(id: string): ConnRecord | null {
    const row = this.#sql.exec('SELECT * FROM conns WHERE id = ?', id).toArray()[0]
    return row ? toRecord(row) : null
  }

  listConnections(q: ConnectionQuery): Page<ConnRecord> {
    // Every search field is one more condition of the same indexed scan in id order.
    const where = ['c.id > ?']
    const args: SqlStorageValue[] = [q.after ?? '']
    let from = 'conns c'
    if (q.topic !== undefined) {
      from = 'conn_topics t JOIN conns c ON c.id = t.id'
      where.push('t.topic = ?')
      args.push(q.topic)
    }
    const s = q.search
    if (s?.id) {
      where.push('instr(c.id, ?) > 0')
      args.push(s.id)
    }
    if (s?.topicPrefix) {
      // Topic characters all sort below '{': names starting with P lie in [P, P + '{').
      where.push(
        'EXISTS (SELECT 1 FROM conn_topics p WHERE p.id = c.id AND p.topic >= ? AND p.topic < ?)',
      )
      args.push(s.topicPrefix, `${s.topicPrefix}{`)
    }
    if (s?.address) {
      where.push("instr(coalesce(c.remote, ''), ?) > 0")
      args.push(s.address)
    }
    if (s?.userAgent) {
      where.push("instr(lower(coalesce(c.ua, '')), ?) > 0")
      args.push(s.userAgent.toLowerCase())
    }
    const rows = this.#sql
      .exec(
        `SELECT c.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY c.id LIMIT ?`,
        ...args,
        q.limit + 1,
      )
      .toArray()
    return { items: rows.slice(0, q.limit).map(toRecord), more: rows.length > q.limit }
  }

  listTopics(q: {
    after: string | undefined
    limit: number
    prefix?: string | undefined
  }): Page<{ topic: string; subscribers: number }> {
    // Topic characters all sort below '{': names starting with P lie in [P, P + '{').
    const low = q.prefix ?? ''
    const high = q.prefix === undefined ? '\u{10FFFF}' : `${q.prefix}{`
    const rows = this.#sql
      .exec(
        `SELECT topic, COUNT(*) AS n FROM conn_topics WHERE topic > ? AND topic >= ? AND topic < ?
         GROUP BY topic ORDER BY topic LIMIT ?`,
        q.after ?? '',
        low,
        high,
        q.limit + 1,
      )
      .toArray()
    return {
      items: rows
        .slice(0, q.limit)
        .map((r) => ({ topic: r.topic as string, subscribers: Number(r.n) })),
      more: rows.length > q.limit,
    }
  }

  /** Adds a topic object's counter deltas. */
  count(delta: Partial<Counts>): void {
    for (const name of COUNT_NAMES) {
      const v = delta[name]
      if (v) this.#bump(name, v)
    }
  }

  /**
   * Whether this shard lists any connection: the drop decision of a broadcast. `count`: this is
   * the shard that counts the broadcast (a publish request), and, when `alone` (the only shard)
   * found nobody, its drop.
   */
  anyConnection(count: boolean, alone: boolean): boolean {
    const any = this.#sql.exec('SELECT 1 FROM conns LIMIT 1').toArray().length > 0
    if (count) {
      this.#bump('published', 1)
      this.#bump('broadcasts', 1)
      if (!any && alone) this.#bump('dropped', 1)
    }
    return any
  }

  /**
   * The home topics of the connections listed here: the topic objects through which a broadcast
   * reaches each connection once (an SSE connection's first topic, whose stream carries its
   * heartbeats; a WebSocket's home object, which holds the socket).
   */
  homes(): string[] {
    return this.#sql
      .exec("SELECT DISTINCT COALESCE(home, json_extract(topics, '$[0]')) AS h FROM conns")
      .toArray()
      .map((r) => r.h as string)
      .filter((h) => typeof h === 'string')
  }

  /** Counts a subscription refused for a private topic. */
  refused(reason: RefusalReason): void {
    this.#bump(`refused:${reason}`, 1)
  }

  totals(): RegistryTotals {
    const values = new Map<string, number>()
    for (const r of this.#sql.exec('SELECT name, value FROM counters')) {
      values.set(r.name as string, Number(r.value))
    }
    const one = (q: string) => Number(this.#sql.exec(q).one().n)
    const totals: RegistryTotals = {
      connections: one('SELECT COUNT(*) AS n FROM conns'),
      connectionsTotal: values.get('connectionsTotal') ?? 0,
      topics: one('SELECT COUNT(DISTINCT topic) AS n FROM conn_topics'),
      createdAt: values.get('createdAt') ?? Date.now(),
      published: 0,
      delivered: 0,
      dropped: 0,
      bytesSent: 0,
      slowConsumerDisconnects: 0,
      replayed: 0,
      gaps: 0,
      broadcasts: 0,
      directSends: 0,
      refusedByReason: {
        unauthorized: values.get('refused:unauthorized') ?? 0,
        forbidden: values.get('refused:forbidden') ?? 0,
      },
      subscriptionsRefused: 0,
    }
    for (const name of COUNT_NAMES) totals[name] = values.get(name) ?? 0
    totals.subscriptionsRefused =
      totals.refusedByReason.unauthorized + totals.refusedByReason.forbidden
    return totals
  }

  #bump(name: string, by: number): void {
    this.#sql.exec(
      'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value',
      name,
      by,
    )
  }

  /**
   * The sweep: rows not confirmed for a while are checked against the topic objects that should
   * hold them. A stream lost without a goodbye (an object reset by a deploy, a crash) leaves the
   * listing within a few minutes. Holders confirm in one call per object.
   */
  override async alarm(): Promise<void> {
    const stale = this.#sql
      .exec(
        'SELECT * FROM conns WHERE seen < ? ORDER BY seen LIMIT ?',
        Date.now() - SWEEP_AFTER_MS,
        SWEEP_BATCH,
      )
      .toArray()
      .map(toRecord)
    const byHolder = new Map<string, string[]>()
    for (const rec of stale) {
      for (const h of holdersOf(rec)) byHolder.set(h, [...(byHolder.get(h) ?? []), rec.id])
    }
    const missing = new Set<string>()
    await Promise.all(
      [...byHolder].map(async ([holder, ids]) => {
        const held = new Set(await hubFor(this.env, holder).holds(ids))
        for (const id of ids) if (!held.has(id)) missing.add(id)
      }),
    )
    const now = Date.now()
    for (const rec of stale) {
      if (missing.has(rec.id)) this.remove(rec.id)
      else this.#sql.exec('UPDATE conns SET seen = ? WHERE id = ?', now, rec.id)
    }
    const left = this.#sql.exec('SELECT 1 FROM conns LIMIT 1').toArray().length
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS)
  }
}
