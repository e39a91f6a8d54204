/**
 * What a hibernatable WebSocket carries through hibernation (`serializeAttachment`, at most
 * 16 KiB: 64 topics of 128 characters and their positions fit). `topics[0]` is the home topic: the object that
 * accepted the socket.
 */
export interface SocketAttachment {
  id: string
  topics: string[]
  connectedAt: string
  remoteAddress: string | null
  userAgent: string | null
  events: number
  bytes: number
  /**
   * Where the socket stands in each of its topics (same order as `topics`): `[epoch, seq]` of
   * the last event sent, so that every frame's cursor covers all its topics, and a replayed
   * event is never sent twice. Null for a topic whose position is not known.
   */
  pos: Array<[string, number] | null>
  /** Closed by the gateway (admin disconnect): cleanup already ran. */
  closing?: boolean
  /** Private topics: when the subscriber's token expires (ms since the epoch). */
  expiresAt?: number
  /** The private topics among `topics` (named by `gateway.token-expired`). */
  privateTopics?: string[]
}

/** How long send counters may stay in memory only before they are written to the attachment. */
const PERSIST_AFTER_MS = 1_000

/**
 * The hibernatable WebSockets a topic object accepted. Sockets are found through
 * `ctx.getWebSockets(tag)` (tag = connection id: one tag per socket, well under the limit of 10),
 * so they survive the object's eviction; counters are kept in memory and written back to each
 * socket's attachment a second after they change, well before an idle object is evicted.
 */
export class TopicSockets {
  readonly #ctx: DurableObjectState
  readonly #cache = new WeakMap<WebSocket, SocketAttachment>()
  readonly #dirty = new Set<WebSocket>()
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(ctx: DurableObjectState) {
    this.#ctx = ctx
  }

  /** Accepts the server side of a new socket for hibernation. */
  accept(server: WebSocket, att: SocketAttachment): void {
    this.#ctx.acceptWebSocket(server, [att.id])
    server.serializeAttachment(att)
    this.#cache.set(server, att)
  }

  attachment(ws: WebSocket): SocketAttachment | undefined {
    let att = this.#cache.get(ws)
    if (!att) {
      att = (ws.deserializeAttachment() as SocketAttachment | null) ?? undefined
      if (att) {
        att.pos ??= att.topics.map(() => null) // accepted by a version without positions
        this.#cache.set(ws, att)
      }
    }
    return att
  }

  /** Open sockets (not closing) with their attachments. */
  *live(tag?: string): Generator<[WebSocket, SocketAttachment]> {
    for (const ws of this.#ctx.getWebSockets(tag)) {
      if (ws.readyState !== WebSocket.OPEN) continue
      const att = this.attachment(ws)
      if (att && !att.closing) yield [ws, att]
    }
  }

  /** True when at least one socket (or the one tagged `id`) is open: stops at the first. */
  has(id?: string): boolean {
    return !this.live(id).next().done
  }

  /** Sends one text frame; false when the socket refused it (it is closing). */
  send(ws: WebSocket, att: SocketAttachment, frame: string, size: number): boolean {
    try {
      ws.send(frame)
    } catch {
      return false
    }
    att.events++
    att.bytes += size
    this.#dirty.add(ws)
    if (this.#timer === undefined) this.#timer = setTimeout(() => this.persist(), PERSIST_AFTER_MS)
    return true
  }

  /** Writes changed counters to the attachments, so they survive hibernation. */
  persist(): void {
    this.#timer = undefined
    for (const ws of this.#dirty) {
      const att = this.#cache.get(ws)
      if (!att) continue
      try {
        ws.serializeAttachment(att)
      } catch {
        // The socket closed meanwhile: its counters go with it.
      }
    }
    this.#dirty.clear()
  }

  /** Marks a socket closed by the gateway, so it no longer counts while its close completes. */
  markClosing(ws: WebSocket, att: SocketAttachment): void {
    att.closing = true
    this.#dirty.delete(ws)
    try {
      ws.serializeAttachment(att)
    } catch {
      // Already closed.
    }
  }
}
