import { once } from 'node:events'
import type { Logger } from '@sse-gateway/core'
import type { Redis } from 'ioredis'
import type { LocalConnection } from './connection.ts'
import type { NodeRegistry } from './node-registry.ts'
import type { LocalState, RedisDirectory } from './redis-directory.ts'

/**
 * The node's periodic work against Redis, every NODE_TTL_MS / 3: renew the lease (or register
 * everything again when the lease had run out or a write was lost), publish connection
 * counters, renew the expiry of held topics' positions, reap dead nodes. Ticks never overlap;
 * one asked for during a tick runs after it.
 */
export class RedisTicker {
  readonly #redis: Redis
  readonly #dir: RedisDirectory
  readonly #nodes: NodeRegistry
  readonly #intervalMs: number
  readonly #state: () => LocalState
  readonly #touch: (() => Promise<void>) | undefined
  readonly #log: Logger
  /** Events sent per connection as last written to Redis. */
  readonly #written = new WeakMap<LocalConnection, number>()
  #registered = false
  /** Redis may be missing some of this node's state: re-register on the next tick. */
  #dirty = true
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = false
  #outage = false

  constructor(opts: {
    redis: Redis
    dir: RedisDirectory
    nodes: NodeRegistry
    intervalMs: number
    state: () => LocalState
    /** More work each tick (renewing the expiry of the windows of held topics). */
    touch?: () => Promise<void>
    log: Logger
  }) {
    this.#redis = opts.redis
    this.#dir = opts.dir
    this.#nodes = opts.nodes
    this.#intervalMs = opts.intervalMs
    this.#state = opts.state
    this.#touch = opts.touch
    this.#log = opts.log
  }

  /** True once Redis shows everything this node holds, and no write failed since. */
  get registered(): boolean {
    return this.#registered && !this.#dirty
  }

  markDirty(): void {
    this.#dirty = true
  }

  /** Follows the connection: every (re)connect re-registers at once. */
  listen(): void {
    this.#redis.on('ready', () => {
      if (this.#outage) this.#log.info({}, 'Redis is back: registering again')
      this.#outage = false
      this.#dirty = true
      void this.tick()
    })
    this.#redis.on('error', (err: Error) => {
      if (this.#outage || this.#stopped) return
      this.#outage = true
      this.#log.error(
        { err: err.message },
        'Redis unreachable: local delivery only until it is back',
      )
    })
    this.#redis.on('close', () => {
      this.#registered = false
    })
  }

  /** Starts the timer and waits (5 s at most) for the first registration. */
  async start(): Promise<void> {
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs)
    this.#timer.unref()
    if (this.#redis.status !== 'ready') {
      const timeout = AbortSignal.timeout(5000)
      await once(this.#redis, 'ready', { signal: timeout }).catch(() => {})
    }
    await this.tick()
  }

  tick(): Promise<void> {
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    this.#running = (async () => {
      do {
        this.#again = false
        await this.#once()
      } while (this.#again && !this.#stopped)
    })().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #once(): Promise<void> {
    if (this.#stopped || this.#redis.status !== 'ready') return
    try {
      if (this.#dirty || !(await this.#nodes.beat())) {
        if (this.#registered && !this.#dirty) {
          this.#log.warn({}, 'this node had been declared dead: registering again')
        }
        this.#dirty = false
        await this.#dir.resync(this.#nodes.lease(), this.#state())
        this.#registered = true
      }
      await this.#writeCounters()
      await this.#touch?.()
      await this.#nodes.reap()
      await this.#nodes.live() // refreshes the announced addresses
    } catch (err) {
      this.#dirty = true
      this.#log.warn({ err: String(err) }, 'Redis tick failed: will retry')
    }
  }

  async #writeCounters(): Promise<void> {
    const changed: Array<[LocalConnection, number]> = []
    for (const c of this.#state().connections) {
      if (c.eventsSent !== (this.#written.get(c) ?? 0)) changed.push([c, c.eventsSent])
    }
    if (changed.length === 0) return
    await this.#dir.writeCounters(changed.map(([c]) => c))
    for (const [c, n] of changed) this.#written.set(c, n)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }
}
