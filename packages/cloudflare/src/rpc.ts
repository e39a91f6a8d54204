import type {
  ConnectionQuery,
  GatewayEvent,
  Message,
  Page,
  RefusalReason,
  ResumeAsk,
  TopicHistory,
  TopicPresence,
} from '@sse-gateway/core'
import type { ConnCounters, ConnRecord, Counts, RegistryTotals } from './records.ts'

/**
 * What the Durable Objects answer over RPC: the Worker and the objects call each other through
 * these, and the bindings (env.ts) are typed by them, so no file needs another's class.
 * `TopicHub` (topic-hub.ts) and `Registry` (registry.ts) implement them.
 */

/** What a topic object answers before a publish: from the headers alone, never the body. */
export interface Probe {
  live: boolean
  /** Admin tails are open: a drop must be shown to them. */
  tails: boolean
}

/** One topic's object (`idFromName(topic)`). */
export interface TopicHubApi extends Rpc.DurableObjectBranded {
  /** The drop decision; a drop takes the topic's next sequence number. */
  probe(topic: string): Probe
  /** Keeps one event in the window and delivers it; resolves with how many subscribers got it. */
  publish(ev: GatewayEvent): Promise<number>
  /** Sends an event to WebSockets homed here: all (`ids` null) or the listed ones. */
  deliver(ev: GatewayEvent, ids: string[] | null): { n: number; bytes: number }
  /** Shows a dropped publish to the admin tails. */
  drop(topic: string, id: string): void
  /** Records a WebSocket homed elsewhere; answers with the topic's history for its opening. */
  addMember(topic: string, id: string, home: string, ask?: ResumeAsk): Promise<TopicHistory>
  removeMember(id: string): Promise<void>
  /** Disconnects a connection held here (admin); false when not held here. */
  close(id: string): Promise<boolean>
  /** Which of `ids` are still held here (the registry's sweep). */
  holds(ids: string[]): string[]
  /** Events and bytes sent to the listed connections. */
  counters(ids: string[]): ConnCounters
  /** The replay window's size; null when the topic has none. */
  windowSize(): { events: number; bytes: number } | null
  /**
   * Writes a broadcast to every connection whose home is this object (SSE streams of their
   * first topic, WebSockets accepted here), once each; resolves with how many got it.
   */
  broadcast(message: Message): number
  /** Writes one message to connection `id` if its home is this object; false otherwise. */
  sendTo(id: string, message: Message): boolean
  /** This topic's subscribers and since when it has had any; null when none. */
  presence(topic: string): Omit<TopicPresence, 'nodes'> | null
}

/** A registry shard (`registry-<n>`): live connections and counters for the admin API. */
export interface RegistryApi extends Rpc.DurableObjectBranded {
  add(rec: ConnRecord, counts?: Partial<Counts>): Promise<void>
  removeTopic(id: string, topic: string): void
  remove(id: string): void
  lookup(id: string): ConnRecord | null
  listConnections(q: ConnectionQuery): Page<ConnRecord>
  listTopics(q: {
    after: string | undefined
    limit: number
    prefix?: string | undefined
  }): Page<{ topic: string; subscribers: number }>
  count(delta: Partial<Counts>): void
  /** The broadcast's drop decision (and its count, on the counting shard). */
  anyConnection(count: boolean, alone: boolean): boolean
  /** The home topic objects of the listed connections: where a broadcast goes. */
  homes(): string[]
  refused(reason: RefusalReason): void
  totals(): RegistryTotals
}
