import type { Context } from 'hono'
import type { GatewayEvent, Message } from './event.ts'
import type { KeyOrder, KeyPosition, Page } from './pagination.ts'

/** The subset of pino's API the core logs through. Keys and bodies are never passed to it. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export type Transport = 'sse' | 'ws'

/** A validated subscription, handed to the runtime to open. */
export interface SubscribeRequest {
  connectionId: string
  transport: Transport
  topics: string[]
  /** `?envelope=json`: SSE data is the JSON envelope `{"topic","id","event","data"}`. */
  envelope: boolean
  remoteAddress: string | undefined
  userAgent: string | undefined
  lastEventId: string | undefined
  /**
   * Private topics: when the subscriber's token expires (ms since the epoch). At that moment the
   * runtime writes `gateway.token-expired` (data: `tokenExpiredData(privateTopics, expiresAt)`)
   * and ends the connection (SSE: clean end; WebSocket: close 1008 "token expired").
   */
  expiresAt?: number | undefined
  /** The requested topics that are private (named by `gateway.token-expired`). */
  privateTopics?: string[] | undefined
}

/** One live connection, as the admin API lists it. */
export interface ConnectionInfo {
  id: string
  transport: Transport
  topics: string[]
  node: string
  connectedAt: string
  remoteAddress: string | null
  userAgent: string | null
  eventsSent: number
  bytesSent: number
}

/**
 * A server-side search of the connection listing (`GET /admin/api/connections?id=&topicPrefix=
 * &address=&userAgent=`): every field given must match. Paging stays by id, as without it.
 */
export interface ConnectionSearch {
  /** Part of the connection id. */
  id?: string | undefined
  /** The start of one of the connection's topics. */
  topicPrefix?: string | undefined
  /** Part of the remote address. */
  address?: string | undefined
  /** Part of the user agent, in any case. */
  userAgent?: string | undefined
}

/** A page request of the connection listing. */
export interface ConnectionQuery {
  after: string | undefined
  limit: number
  /** Only subscribers of this exact topic. */
  topic: string | undefined
  /** Only connections matching every field given (undefined or empty: no search). */
  search?: ConnectionSearch | undefined
}

/** A page request of the connection listing in a sort order (`?sort=newest|events`). */
export interface SortedConnectionQuery extends Omit<ConnectionQuery, 'after'> {
  order: KeyOrder<ConnectionInfo>
  /** The (key, id) of the last item of the previous page. */
  after: KeyPosition | undefined
}

/** Whether a search has any field to match (an empty one lists everything). */
export function hasSearch(s: ConnectionSearch | undefined): s is ConnectionSearch {
  return !!(s && (s.id || s.topicPrefix || s.address || s.userAgent))
}

/** Whether a connection matches a search (see ConnectionSearch). */
export function matchesSearch(
  c: Pick<ConnectionInfo, 'id' | 'topics' | 'remoteAddress' | 'userAgent'>,
  s: ConnectionSearch | undefined,
): boolean {
  if (!s) return true
  if (s.id && !c.id.includes(s.id)) return false
  if (s.topicPrefix) {
    const p = s.topicPrefix
    if (!c.topics.some((t) => t.startsWith(p))) return false
  }
  if (s.address && !(c.remoteAddress ?? '').includes(s.address)) return false
  if (s.userAgent && !(c.userAgent ?? '').toLowerCase().includes(s.userAgent.toLowerCase())) {
    return false
  }
  return true
}

/** A page request of the topic listing. */
export interface TopicQuery {
  after: string | undefined
  limit: number
  /** Only topics whose name starts with this. */
  prefix?: string | undefined
}

/** Whether `topic` falls in a listing filtered by `prefix`. */
export function matchesPrefix(topic: string, prefix: string | undefined): boolean {
  return prefix === undefined || topic.startsWith(prefix)
}

/** One live topic, as the admin API lists it. */
export interface TopicInfo {
  topic: string
  subscribers: number
  nodes: string[]
  /** The topic's replay window: events held, and their bytes where the store can tell (null otherwise). */
  window: { events: number; bytes: number | null } | null
}

/** Live figures of one node (counters since it started). */
export interface NodeStats {
  node: string
  connections: number
  connectionsTotal: number
  topics: number
  published: number
  delivered: number
  dropped: number
  bytesSent: number
  slowConsumerDisconnects: number
  /** Events written to resuming connections from the replay window. */
  replayed: number
  /** `gateway.gap` events sent: resumes that could not replay everything. */
  gaps: number
  /** Broadcasts (`x-sse-topic: *`) this node accepted from a publisher, drops included. */
  broadcasts: number
  /** Direct sends (`POST /admin/api/connections/{id}/events`) this node accepted. */
  directSends: number
  /** Subscriptions refused for a private topic (401 or 403). */
  subscriptionsRefused: number
  /**
   * When these figures were read (ISO 8601): the moment of the request for the node that
   * answers, the last heartbeat snapshot (at most `NODE_TTL_MS / 3` old) for a peer. In the
   * totals: the oldest figures they add up.
   */
  asOf: string
}

/** The deployment's totals, and each node's own figures. */
export type Stats = Omit<NodeStats, 'node'> & { nodes: NodeStats[] }

export interface NodeInfo {
  id: string
  url: string | null
  startedAt: string
  connections: number
  topics: number
}

/** Who is subscribed to one topic across the deployment (`GET /admin/api/topics/{topic}`). */
export interface TopicPresence {
  topic: string
  subscribers: number
  /** Per node holding subscribers of it, in node order. */
  nodes: Array<{ node: string; subscribers: number }>
  /** When the topic went live (ISO 8601): the earliest of its nodes' current live periods. */
  since: string
}

/** What a publish did, from the backend's side. */
export interface PublishOutcome {
  /** Subscribers (connections) the event was written to, where the runtime knows it at once. */
  subscribers?: number
}

/**
 * The runtime behind the gateway: the Node process (memory or Redis namespace) or Cloudflare's
 * Durable Objects. The core validates, authenticates and frames; the backend holds connections.
 */
export interface GatewayBackend<C extends Context = Context> {
  /** This node's id, as shown in listings. */
  readonly nodeId: string
  /**
   * Of `topics`, those with at least one live subscriber anywhere in the deployment (tails do not
   * count). One round trip at most; never touches a request body.
   */
  liveTopics(topics: string[]): string[] | Promise<string[]>
  /**
   * Delivers one event per topic to every subscriber of that topic on every node, and to its
   * tails. Events of one publisher to one topic keep their order for each subscriber.
   */
  publish(events: GatewayEvent[]): Promise<PublishOutcome>
  /** Records dropped topics (no subscriber): tails see `{topic,id}`. Never throws. */
  dropped(topics: string[], id: string): Promise<void>
  /**
   * Whether any connection (SSE or WebSocket) is live anywhere in the deployment: the drop
   * decision of a broadcast. One look-up at most; never touches a request body.
   */
  anyConnection(): boolean | Promise<boolean>
  /**
   * Writes one message (topic `*`) to every live connection on every node, exactly once each.
   * `subscribers` in the outcome: connections written to, where the runtime knows it at once.
   */
  broadcast(message: Message): Promise<PublishOutcome>
  /** Writes one message (no topic) to one connection wherever it lives; false: no such connection. */
  sendTo(connectionId: string, message: Message): Promise<boolean>
  /** Who is subscribed to `topic` across the deployment; null when nobody is (tails do not count). */
  presence(topic: string): Promise<TopicPresence | null>
  /** Counts a subscription refused for a private topic (stats and metrics). */
  refused(reason: 'unauthorized' | 'forbidden'): void
  /** Opens an SSE stream or accepts a WebSocket upgrade for a validated subscription. */
  subscribe(c: C, req: SubscribeRequest): Promise<Response>
  /** Opens an admin tail of one topic: SSE, not a subscriber. */
  tail(c: C, topic: string): Promise<Response>
  /** Live topics in name order after `after`; only names starting with `prefix` when given. */
  listTopics(q: TopicQuery): Promise<Page<TopicInfo>>
  /**
   * Live connections in id order after `after`. With `q.search`, only the matching ones; a
   * backend that stops scanning before `limit` matches sets `Page.next` to where it stopped.
   */
  listConnections(q: ConnectionQuery): Promise<Page<ConnectionInfo>>
  /**
   * Optional: the first `limit` live connections after `q.after` in `q.order` (see topAfter;
   * parts of a deployment merge with mergeTop). Without it the admin route sorts the
   * id-ordered listing itself, reading at most SORT_SCAN connections per page.
   */
  listConnectionsSorted?(q: SortedConnectionQuery): Promise<Page<ConnectionInfo>>
  /** Disconnects one connection on whatever node holds it; false when no such connection. */
  disconnect(id: string): Promise<boolean>
  stats(): Promise<Stats>
  nodes(): Promise<NodeInfo[]>
  /** Ready to take traffic (in a cluster: Redis reachable and this node registered). */
  ready(): Promise<{ ready: boolean; reason?: string }>
}

/** Hooks for metrics; every one is optional. */
export interface PublishObserver {
  published?(info: { topics: number; live: number; seconds: number; bytes: number }): void
}
