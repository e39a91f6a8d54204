import type {
  TopicQuery,
  ConnectionInfo,
  EncodedMessage,
  GatewayEvent,
  LocalHub,
  NodeInfo,
  Page,
  ResumeAsk,
  Stats,
  TailSink,
  TopicHistory,
  TopicInfo,
  TopicPresence,
  ConnectionQuery,
  SortedConnectionQuery,
} from '@sse-gateway/core'
import type { Hono } from 'hono'
import type { LocalConnection } from './connection.ts'

/**
 * The stub of one topic, shaped like a Durable Object stub: the namespace hands it out by
 * `get(idFromName(topic))`, and it speaks for the topic across the whole deployment.
 */
export interface TopicStub {
  /** True when the topic has a subscriber on any node (tails do not count). */
  probe(): Promise<boolean>
  /**
   * Gives the event the topic's next sequence number in its store (and keeps it in the replay
   * window), writes it to this node's subscribers and forwards it once to each other node that
   * holds subscribers or tails of the topic. Resolves with the local delivery count; a forward
   * to a dead node fails on its own without holding up the others.
   */
  publish(ev: GatewayEvent): Promise<number>
  /**
   * A publish dropped for want of a subscriber: takes its sequence number (a resume counts it
   * as missed) and tells every tail of the topic, on any node, topic and id.
   */
  drop(id: string): Promise<void>
}

/**
 * Where topics live: the memory namespace (one process) or the Redis namespace (a cluster).
 * The gateway logic above it is the same code in both modes.
 */
export interface TopicNamespace {
  readonly nodeId: string
  /** This node's subscribers, by topic. */
  readonly hub: LocalHub
  idFromName(topic: string): string
  get(id: string): TopicStub
  /** `probe` answered at once, where the namespace knows without a round trip (one process). */
  liveNow?(topic: string): boolean
  /** `drop` done at once, where the namespace can (one process). */
  dropNow?(topic: string, id: string): void
  /**
   * Registers a new local connection (its topics in the hub and, in a cluster, the directory),
   * sets its cursor scope, and reads each topic's history: after the asked position for a
   * resume, the position alone otherwise. Resolves once a publish made anywhere reaches it (its
   * live events are held by the connection until `goLive`).
   */
  attach(conn: LocalConnection, asks?: ResumeAsk[]): Promise<Map<string, TopicHistory>>
  /** Forgets a closed local connection; its topics leave the directory when it was their last. */
  detach(conn: LocalConnection): void
  attachTail(topic: string, tail: TailSink): void
  detachTail(topic: string, tail: TailSink): void
  listTopics(q: TopicQuery): Promise<Page<TopicInfo>>
  listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>>
  /** Optional: a sorted page (GatewayBackend.listConnectionsSorted); one process has it. */
  listConnectionsSorted?(q: SortedConnectionQuery): Promise<Page<ConnectionInfo>>
  /**
   * Whether any connection is live in the deployment (a broadcast's drop decision): answered at
   * once when this node holds one, else by one look-up at most.
   */
  anyConnection(): boolean | Promise<boolean>
  /**
   * Writes a broadcast to every live connection on every node, once each: this node's own, and
   * one message to each other node that holds connections. Resolves with the connections it
   * was written to (another node's as the directory counts them).
   */
  broadcast(msg: EncodedMessage): Promise<number>
  /** Writes a direct send to one connection on whichever node holds it; false: none has it. */
  sendTo(id: string, msg: EncodedMessage): Promise<boolean>
  /** Subscribers of `topic` in the deployment and per node, and since when; null: none. */
  presence(topic: string): Promise<TopicPresence | null>
  /** Closes a connection held by any node; false when none has it. */
  disconnect(id: string): Promise<boolean>
  stats(): Promise<Stats>
  nodes(): Promise<NodeInfo[]>
  ready(): Promise<{ ready: boolean; reason?: string }>
  /** Adds routes the namespace serves itself (a cluster's node-to-node forwarding); optional. */
  routes?(app: Hono): void
  start(): Promise<void>
  /**
   * Starts a drain (SIGTERM), before the streams are ended: in a cluster, the topics that lose
   * their last subscriber here stay registered for DRAIN_LINGER_MS (or until another node holds
   * them), so that what is published while the clients move is kept; `stop` waits for that.
   */
  drain?(): void
  /** Deregisters this node (cluster) and stops timers. */
  stop(): Promise<void>
}
