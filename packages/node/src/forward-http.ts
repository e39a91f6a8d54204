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
  encodedOnce,
} from './forward.ts'

/** The route a node takes forwarded messages on (same API keys as publishers). */
export const CLUSTER_PATH = '/internal/cluster'

/** A batch stops growing past this many bytes of JSON (one message may be larger). */
const BATCH_BYTES = 4 * 1024 * 1024
const BATCH_MESSAGES = 256

/**
 * Requests in flight to one node. Two, so that a batch can be on its way while the target is
 * still writing the one before: both then reach it within one turn of its event loop and leave
 * in one write a subscriber. A publisher that waits for its `202` (sent once its message is
 * acknowledged) still has its messages delivered in order; events are put back in sequence order
 * by the target in any case.
 */
const IN_FLIGHT = 2

/** What waits for one target node, and how many of its requests are in flight. */
interface Lane {
  queue: Pending[]
  sending: number
  /** A launch is due at the end of this turn (`afterAppends`). */
  scheduled: boolean
}

interface Pending {
  body: string
  resolve: (ok: boolean) => void
}

/**
 * Forwarding by direct HTTP to each node's announced address, over at most two keep-alive
 * connections per target. Each request carries every message queued meanwhile (batches under
 * load); a message is acknowledged once the target has written it, and a publish is answered
 * after that, so the messages of a publisher that waits for its answers reach the target in
 * order (events of several publishers are put back in sequence order there). A dead target
 * fails by connection refusal (at once) or after `timeoutMs` (unreachable host); either way only
 * the messages to that target wait.
 */
export class HttpForwarder implements Forwarder {
  readonly kind = 'http'
  readonly receiving = true
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT })
  readonly #lanes = new Map<string, Lane>()
  readonly #resolveUrl: (node: string) => Promise<string | undefined>
  readonly #auth: string
  readonly #timeoutMs: number
  readonly #log: Logger
  /** The JSON of a message, made once for all the targets it is sent to in a row. */
  readonly #encode = encodedOnce()

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
      let lane = this.#lanes.get(node)
      if (!lane) {
        lane = { queue: [], sending: 0, scheduled: false }
        this.#lanes.set(node, lane)
      }
      lane.queue.push({ body: this.#encode(msg), resolve })
      if (lane.scheduled || lane.sending >= IN_FLIGHT) return
      lane.scheduled = true
      // A batch leaves once this turn of the event loop is over and the appends in flight are
      // answered (append-gate.ts), so it carries every message of the turn (the publishes whose
      // sequence numbers came in one Redis reply), not just the first: the target writes them
      // to its subscribers in one write each.
      const ready = lane
      afterAppends(() => this.#launch(node, ready))
    })
  }

  /** Sends what the lane holds, in as many batches as it has requests free. */
  #launch(node: string, lane: Lane): void {
    lane.scheduled = false
    while (lane.sending < IN_FLIGHT && lane.queue.length > 0) {
      let size = 0
      let n = 0
      while (n < lane.queue.length && n < BATCH_MESSAGES && size < BATCH_BYTES) {
        size += (lane.queue[n] as Pending).body.length
        n++
      }
      lane.sending++
      void this.#sendBatch(node, lane, lane.queue.splice(0, n))
    }
  }

  async #sendBatch(node: string, lane: Lane, batch: Pending[]): Promise<void> {
    let results: unknown[] = []
    try {
      const url = await this.#resolveUrl(node)
      if (!url) throw new Error('no announced address')
      results = await this.#post(url, `[${batch.map((p) => p.body).join(',')}]`)
    } catch (err) {
      this.#log.warn({ err: String(err), node, messages: batch.length }, 'forward failed')
    }
    lane.sending--
    for (const [i, p] of batch.entries()) p.resolve(results[i] === true)
    if (lane.queue.length > 0 && !lane.scheduled) this.#launch(node, lane)
    else if (lane.sending === 0 && lane.queue.length === 0 && !lane.scheduled) {
      this.#lanes.delete(node)
    }
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
