import { afterAppends } from './append-gate.ts'
import http from 'node:http'
import { GatewayError, type Logger, readBodyText } from '@sse-gateway/core'
import type { Hono } from 'hono'
import type { Redis } from 'ioredis'
import {
  type ClusterMessage,
  type ForwardKind,
  type Forwarder,
  type MessageHandler,
  RedisForwarder,
  decodeMessage,
} from './forward.ts'

/** The route a node takes forwarded messages on (same API keys as publishers). */
export const CLUSTER_PATH = '/internal/cluster'

/** A batch stops growing past this many bytes of JSON (one message may be larger). */
const BATCH_BYTES = 4 * 1024 * 1024
const BATCH_MESSAGES = 256

interface Pending {
  body: string
  resolve: (ok: boolean) => void
}

/**
 * Forwarding by direct HTTP to each node's announced address, over one keep-alive connection
 * per target. One request in flight per target, carrying every message queued meanwhile: that
 * keeps each target's messages in order, and batches under load. A dead target fails by
 * connection refusal (at once) or after `timeoutMs` (unreachable host); either way only the
 * messages to that target wait.
 */
export class HttpForwarder implements Forwarder {
  readonly kind = 'http'
  readonly receiving = true
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  readonly #lanes = new Map<string, Pending[]>()
  readonly #resolveUrl: (node: string) => Promise<string | undefined>
  readonly #auth: string
  readonly #timeoutMs: number
  readonly #log: Logger
  #lastMsg: ClusterMessage | undefined
  #lastBody = ''

  constructor(opts: {
    resolveUrl: (node: string) => Promise<string | undefined>
    apiKey: string
    timeoutMs: number
    log: Logger
  }) {
    this.#resolveUrl = opts.resolveUrl
    this.#auth = `Bearer ${opts.apiKey}`
    this.#timeoutMs = opts.timeoutMs
    this.#log = opts.log
  }

  send(node: string, msg: ClusterMessage): Promise<boolean> {
    return new Promise((resolve) => {
      const body = this.#encode(msg)
      const lane = this.#lanes.get(node)
      if (lane) return void lane.push({ body, resolve })
      this.#lanes.set(node, [{ body, resolve }])
      // The first batch leaves once this turn of the event loop is over and the appends in
      // flight are answered (append-gate.ts), so it carries every message of the turn (the
      // publishes whose sequence numbers came in one Redis reply), not just the first: the
      // target writes them to its subscribers in one write each.
      afterAppends(() => void this.#pump(node))
    })
  }

  /** The JSON of `msg`, made once for all the targets it is sent to in a row. */
  #encode(msg: ClusterMessage): string {
    if (msg !== this.#lastMsg) {
      this.#lastMsg = msg
      this.#lastBody = JSON.stringify(msg)
    }
    return this.#lastBody
  }

  /** Sends the target's queue, batch after batch, until it is empty. */
  async #pump(node: string): Promise<void> {
    const lane = this.#lanes.get(node) as Pending[]
    while (lane.length > 0) {
      let size = 0
      let n = 0
      while (n < lane.length && n < BATCH_MESSAGES && size < BATCH_BYTES) {
        size += (lane[n] as Pending).body.length
        n++
      }
      const batch = lane.splice(0, n)
      let results: unknown[] = []
      try {
        const url = await this.#resolveUrl(node)
        if (!url) throw new Error('no announced address')
        results = await this.#post(url, `[${batch.map((p) => p.body).join(',')}]`)
      } catch (err) {
        this.#log.warn({ err: String(err), node, messages: batch.length }, 'forward failed')
      }
      for (const [i, p] of batch.entries()) p.resolve(results[i] === true)
    }
    this.#lanes.delete(node)
  }

  #post(base: string, body: string): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        new URL(CLUSTER_PATH, base),
        {
          method: 'POST',
          agent: this.#agent,
          headers: {
            authorization: this.#auth,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`))
            try {
              const out = JSON.parse(Buffer.concat(chunks).toString()) as unknown
              resolve(Array.isArray(out) ? out : [])
            } catch (err) {
              reject(err)
            }
          })
        },
      )
      req.setTimeout(this.#timeoutMs, () => req.destroy(new Error('timed out')))
      req.on('error', reject)
      req.end(body)
    })
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#agent.destroy()
  }
}

/**
 * Adds the receiving route: a JSON array of messages in, a JSON array of results out.
 * `maxBytes` bounds the body (a batch, or one event as large as MAX_BODY_BYTES once escaped).
 */
export function addClusterRoute(
  app: Hono,
  opts: { checkKey: (h: Headers) => void; onMessage: MessageHandler; maxBytes: number },
): void {
  app.post(CLUSTER_PATH, async (c) => {
    opts.checkKey(c.req.raw.headers)
    const text = await readBodyText(c.req.raw, opts.maxBytes)
    let list: unknown
    try {
      list = JSON.parse(text)
    } catch {
      throw new GatewayError('bad_request', 'cluster messages must be a JSON array')
    }
    if (!Array.isArray(list)) {
      throw new GatewayError('bad_request', 'cluster messages must be a JSON array')
    }
    return c.json(
      list.map((m) => {
        const msg = decodeMessage(m)
        return msg ? opts.onMessage(msg) : false
      }),
    )
  })
}

/** The forwarder of `CLUSTER_FORWARD`, with what either kind needs. */
export function createForwarder(
  kind: ForwardKind,
  deps: {
    redis: Redis
    channel: (node: string) => string
    nodeId: string
    onMessage: MessageHandler
    resolveUrl: (node: string) => Promise<string | undefined>
    apiKey: string
    timeoutMs: number
    log: Logger
  },
): Forwarder {
  return kind === 'http' ? new HttpForwarder(deps) : new RedisForwarder(deps)
}
