import { type ParsedEvent, SseClient } from '../clients/sse.ts'

/**
 * A subscriber that reconnects as a browser's `EventSource` does: when its stream ends (the node
 * drained or died), it waits `retryMs` and connects again, with the last event id it saw as
 * `Last-Event-ID`, to the node `next()` names (what a load balancer would pick). It keeps every
 * event of every connection, in order, and the gateway's `gateway.gap` events.
 */
export class ResumingSubscriber {
  /** Node URLs this subscriber was connected to, in order. */
  readonly nodes: string[] = []
  readonly #done: ParsedEvent[] = []
  readonly #gaps: ParsedEvent[] = []
  readonly #path: string
  readonly #next: () => string
  readonly #retryMs: number
  #client: SseClient | undefined
  #lastEventId: string | undefined
  #closed = false
  #loop: Promise<void> = Promise.resolve()

  private constructor(path: string, next: () => string, retryMs: number) {
    this.#path = path
    this.#next = next
    this.#retryMs = retryMs
  }

  /** Connects to `first` and resolves once its `gateway.connected` has arrived. */
  static async open(opts: {
    first: string
    topics: string
    next: () => string
    retryMs: number
  }): Promise<ResumingSubscriber> {
    const s = new ResumingSubscriber(`/sse?topic=${opts.topics}`, opts.next, opts.retryMs)
    const client = await s.#connect(opts.first)
    await client.waitForGatewayEvents(1)
    s.#loop = s.#follow(client)
    return s
  }

  async #connect(url: string): Promise<SseClient> {
    const headers: Record<string, string> = this.#lastEventId
      ? { 'last-event-id': this.#lastEventId }
      : {}
    const client = await SseClient.open(`${url}${this.#path}`, headers)
    if (client.status !== 200) throw new Error(`${url} answered ${client.status}`)
    this.#client = client
    this.nodes.push(url)
    return client
  }

  /** Waits for each stream to end, then reconnects elsewhere, until closed. */
  async #follow(first: SseClient): Promise<void> {
    let client: SseClient | undefined = first
    for (;;) {
      if (client) {
        const c: SseClient = client
        await c.until(() => c.ended || this.#closed, 3_600_000, 'the end of the stream')
        this.#keep(c)
        this.#client = undefined
      }
      if (this.#closed) return
      await new Promise((r) => setTimeout(r, this.#retryMs))
      if (this.#closed) return
      // A node that is down refuses: try the next one after the retry delay.
      client = await this.#connect(this.#next()).catch(() => undefined)
      if (client && this.#closed) client.close()
    }
  }

  #keep(client: SseClient): void {
    this.#done.push(...client.events)
    this.#gaps.push(...client.gatewayEvents.filter((e) => e.event === 'gateway.gap'))
    this.#lastEventId = client.lastEventId ?? this.#lastEventId
  }

  /** Every event received so far, across connections. */
  get events(): ParsedEvent[] {
    return [...this.#done, ...(this.#client?.events ?? [])]
  }

  /** `gateway.gap` events received so far. */
  get gaps(): ParsedEvent[] {
    const live = this.#client?.gatewayEvents.filter((e) => e.event === 'gateway.gap') ?? []
    return [...this.#gaps, ...live]
  }

  /** Waits until at least `n` events have arrived (across reconnects). */
  async waitForEvents(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.events.length < n) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${n} events; got ${this.events.length} over ${this.nodes.join(' → ')}`,
        )
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#client?.close()
    await this.#loop
  }
}
