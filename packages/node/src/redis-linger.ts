import type { Logger, Config } from '@sse-gateway/core'
import type { RedisDirectory } from './redis-directory.ts'

/**
 * The topics a cluster node keeps registered (with a count of 0) after their last local
 * subscriber left: for LINGER_MS at any time, and for DRAIN_LINGER_MS (or until another node
 * holds subscribers of the topic) once the node drains. While a topic lingers, a publish to it
 * is appended to its window instead of being dropped, for the subscribers that come back here
 * or on another node.
 */
export class TopicLinger {
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #config: Pick<Config, 'lingerMs' | 'drainLingerMs'>
  readonly #nodeId: string
  readonly #dir: RedisDirectory
  /** True while the topic has a subscriber here again (it then stays registered). */
  readonly #held: (topic: string) => boolean
  /** Writes to Redis the way the namespace does (a failure means re-register later). */
  readonly #write: (what: string, op: () => Promise<void>) => Promise<void>
  readonly #online: () => boolean
  readonly #log: Logger
  #draining = false

  constructor(opts: {
    config: Pick<Config, 'lingerMs' | 'drainLingerMs'>
    nodeId: string
    dir: RedisDirectory
    held: (topic: string) => boolean
    write: (what: string, op: () => Promise<void>) => Promise<void>
    online: () => boolean
    log: Logger
  }) {
    this.#config = opts.config
    this.#nodeId = opts.nodeId
    this.#dir = opts.dir
    this.#held = opts.held
    this.#write = opts.write
    this.#online = opts.online
    this.#log = opts.log
  }

  /** True while this node lingers on `topic` (its directory entry must say count 0, kept). */
  has(topic: string): boolean {
    return this.#timers.has(topic)
  }

  topics(): IterableIterator<string> {
    return this.#timers.keys()
  }

  /** The topic lost its last subscriber here: linger on it, when a linger time applies. */
  start(topic: string): void {
    const { lingerMs, drainLingerMs } = this.#config
    const ms = this.#draining ? Math.max(drainLingerMs, lingerMs) : lingerMs
    if (ms <= 0) return
    clearTimeout(this.#timers.get(topic))
    const timer = setTimeout(() => this.#release(topic), ms)
    timer.unref()
    this.#timers.set(topic, timer)
  }

  /** A subscriber came back: the registration that follows replaces the lingering entry. */
  end(topic: string): void {
    const timer = this.#timers.get(topic)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#timers.delete(topic)
  }

  /** Stops lingering on a topic: this node leaves it (unless a subscriber came back). */
  #release(topic: string): void {
    if (!this.#timers.has(topic)) return
    this.end(topic)
    if (this.#held(topic)) return
    void this.#write('linger', () => this.#dir.unlinger(topic))
  }

  /** From now on a topic that loses its last subscriber lingers DRAIN_LINGER_MS (SIGTERM). */
  drain(): void {
    this.#draining = true
  }

  get draining(): boolean {
    return this.#draining
  }

  /**
   * Waits until no topic lingers any more, or DRAIN_LINGER_MS has passed: a topic is let go as
   * soon as another live node holds subscribers of it (a publish is then kept without us).
   */
  async out(): Promise<void> {
    const ms = this.#config.drainLingerMs
    const deadline = Date.now() + ms
    if (this.#timers.size > 0) {
      this.#log.info(
        { topics: this.#timers.size, ms },
        'draining: keeping topics registered while their clients move to other nodes',
      )
    }
    while (this.#timers.size > 0 && Date.now() < deadline && this.#online()) {
      await Promise.all(
        [...this.#timers.keys()].map(async (t) => {
          const route = await this.#dir.lookup(t).catch(() => undefined)
          for (const [node, n] of route?.subscribers ?? []) {
            if (node !== this.#nodeId && n > 0) return this.#release(t)
          }
        }),
      )
      if (this.#timers.size === 0) break
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(200, deadline - Date.now()))))
    }
  }

  /** Forgets every lingering topic (the node is leaving: its entries go with it). */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }
}
