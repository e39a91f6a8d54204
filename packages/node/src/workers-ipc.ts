/**
 * The IPC messages between the primary and its workers (WORKERS=N without Redis). Every message
 * of one event-loop turn to one channel goes as one IPC message (an array): a fan-out of many
 * events costs one serialization and one system call per worker, not one per event. The channel
 * is FIFO, which is what keeps one topic's events in one order on every worker.
 *
 * The channel uses Node's default `json` serialization. Measured (200-byte events, 2 busy cores):
 * batches of 64 move about 0.4–0.5 M events/s either way, `json` or `advanced`; one event per
 * message, `json` is 2–5× faster than `advanced` (about 50–130 k vs 22–27 k events/s), and
 * batching gains 3–9× over it.
 */

/** Writes batched messages to one IPC channel. */
export class Batcher<M> {
  #queue: M[] = []
  #scheduled = false
  readonly #send: (batch: M[]) => void

  constructor(send: (batch: M[]) => void) {
    this.#send = send
  }

  push(msg: M): void {
    this.#queue.push(msg)
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => this.flush())
  }

  flush(): void {
    this.#scheduled = false
    if (this.#queue.length === 0) return
    const batch = this.#queue
    this.#queue = []
    try {
      this.#send(batch)
    } catch {
      // the channel is closed (the other side exited): its exit handler cleans up
    }
  }
}

/** Requests a worker makes of the primary, by name. */
export type WorkerOp =
  | 'hello'
  | 'attach'
  | 'publish'
  | 'anyConnection'
  | 'broadcast'
  | 'sendTo'
  | 'presence'
  | 'disconnect'
  | 'stats'
  | 'nodes'
  | 'listTopics'
  | 'listConnections'
  | 'metrics'

/** Questions the primary asks every worker, by name. */
export type PrimaryAsk =
  'live' | 'broadcast' | 'sendTo' | 'disconnect' | 'stats' | 'node' | 'listConnections' | 'metrics'

/** Worker → primary. */
export type ToPrimary =
  | { k: 'req'; id: number; op: WorkerOp; a?: unknown }
  | { k: 'res'; id: number; r: unknown }
  | { k: 'detach'; topics: string[] }
  | { k: 'tail'; topic: string; add: boolean }
  | { k: 'drop'; topic: string; id: string }
  /** A pre-framed tail notice (a resume's gap, a replay) for every tail of the topic. */
  | { k: 'notice'; topic: string; frame: string }

/** Primary → worker. */
export type ToWorker =
  | { k: 'res'; id: number; r: unknown; err?: string }
  | { k: 'ask'; id: number; op: PrimaryAsk; a?: unknown }
  /** An event to this worker's subscribers and tails; `req`: the publish it answers (origin). */
  | { k: 'ev'; ev: import('@sse-gateway/core').GatewayEvent; req?: number }
  | { k: 'drop'; topic: string; id: string }
  | { k: 'notice'; topic: string; frame: string }
  | { k: 'dead'; topics: string[] }

/** Marks a process message as ours (cluster's own messages travel on the same channel). */
export const TAG = 'sse-gw'
export type Envelope<M> = { [TAG]: M[] }

export function isEnvelope<M>(msg: unknown): msg is Envelope<M> {
  return typeof msg === 'object' && msg !== null && TAG in msg
}
