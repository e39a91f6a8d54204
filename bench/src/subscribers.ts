import { type Socket, connect } from 'node:net'
import { Histogram, nowUs } from './histogram.ts'
import { subscribeHead } from './http-client.ts'
import { type ApiKind, type Endpoint, type TopicRange, topicName } from './types.ts'

const DATA = Buffer.from('data: ')
const CRLF2 = Buffer.from('\r\n\r\n')

export interface OpenSpec {
  kind: ApiKind
  endpoints: Endpoint[]
  topics: TopicRange
  /** Subscriptions per topic. */
  copies: number
  /**
   * `ws`: WebSocket subscribers, held idle (their frames are not counted; for the memory of
   * idle connections). Default `sse`.
   */
  transport?: 'sse' | 'ws' | undefined
  /** Source addresses to bind, in turn (each has ~28,000 ephemeral ports). */
  localAddresses?: string[] | undefined
  /** Connects in flight at once (the server's listen backlog is finite). */
  concurrency: number
  timeoutMs: number
}

export interface OpenResult {
  opened: number
  failed: number
  ms: number
  firstError?: string | undefined
}

/**
 * Idle-cheap SSE subscribers on raw sockets. They count `data:` lines (one per event: the
 * bodies sent are single-line) and, in latency mode, read the send time the publisher put in
 * the body and record now − then.
 */
export class SubscriberSet {
  readonly hist = new Histogram()
  latency = false
  events = 0
  lastEventUs = 0
  unexpectedCloses = 0
  #sockets: Socket[] = []
  #counts: number[] = []
  /** Sockets we closed ourselves: their 'close' is not a disconnect by the server. */
  readonly #closing = new WeakSet<Socket>()

  /** Fewest events any one subscriber got since the last reset. */
  get minPerSubscriber(): number {
    let min = Number.POSITIVE_INFINITY
    for (const n of this.#counts) if (n < min) min = n
    return this.#counts.length === 0 ? 0 : min
  }

  get size(): number {
    return this.#sockets.length
  }

  reset(): void {
    this.events = 0
    this.lastEventUs = 0
    this.hist.reset()
    this.#counts.fill(0)
  }

  async open(spec: OpenSpec): Promise<OpenResult> {
    const total = (spec.topics.to - spec.topics.from) * spec.copies
    const started = performance.now()
    const deadline = Date.now() + spec.timeoutMs
    let next = 0
    let opened = 0
    let failed = 0
    let firstError: string | undefined
    await new Promise<void>((done) => {
      let inFlight = 0
      const pump = () => {
        while (inFlight < spec.concurrency && next < total) {
          const i = next++
          const ep = spec.endpoints[i % spec.endpoints.length] as Endpoint
          const topic = topicName(
            spec.topics.prefix,
            spec.topics.from + Math.floor(i / spec.copies),
          )
          inFlight++
          const from = spec.localAddresses?.[i % spec.localAddresses.length]
          this.#connect(spec.kind, ep, topic, from, deadline, spec.transport ?? 'sse')
            .then(
              () => opened++,
              (err: Error) => {
                failed++
                firstError ??= err.message
              },
            )
            .finally(() => {
              inFlight--
              if (next >= total && inFlight === 0) done()
              else pump()
            })
        }
      }
      if (total === 0) done()
      else pump()
    })
    return { opened, failed, ms: performance.now() - started, firstError }
  }

  #connect(
    kind: ApiKind,
    ep: Endpoint,
    topic: string,
    localAddress: string | undefined,
    deadline: number,
    transport: 'sse' | 'ws',
  ): Promise<void> {
    const ok = transport === 'ws' ? '101' : '200'
    return new Promise((resolve, reject) => {
      const s = connect({ host: ep.host, port: ep.port, localAddress })
      let head = true
      let pending: Buffer = Buffer.alloc(0)
      let slot = -1
      const timer = setTimeout(
        () => {
          s.destroy()
          reject(new Error(`no stream from ${ep.host}:${ep.port} in time`))
        },
        Math.max(1, deadline - Date.now()),
      )
      s.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
      s.on('close', () => {
        clearTimeout(timer)
        if (head) reject(new Error('closed before the stream started'))
        else if (!this.#closing.has(s)) this.unexpectedCloses++
      })
      s.on('data', (chunk: Buffer) => {
        let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk
        if (head) {
          const end = buf.indexOf(CRLF2)
          if (end < 0) {
            pending = buf
            return
          }
          const status = buf.toString('latin1', 9, 12)
          if (status !== ok) {
            clearTimeout(timer)
            s.destroy()
            reject(new Error(`HTTP ${status}: ${buf.toString('latin1', 0, Math.min(end, 200))}`))
            return
          }
          head = false
          clearTimeout(timer)
          slot = this.#sockets.push(s) - 1
          this.#counts.push(0)
          resolve()
          buf = buf.subarray(end + 4)
        }
        if (transport === 'ws') return
        pending = this.#scan(buf, slot)
      })
      s.write(subscribeHead(kind, ep, topic, transport))
    })
  }

  /** Counts the events in `buf`; returns the bytes to keep for the next chunk. */
  #scan(buf: Buffer, slot: number): Buffer {
    let from = 0
    let n = 0
    let unfinished = false
    for (;;) {
      const at = buf.indexOf(DATA, from)
      if (at < 0) break
      const eol = buf.indexOf(10, at + DATA.length)
      if (eol < 0) {
        from = at
        unfinished = true
        break
      }
      n++
      if (this.latency) {
        const sent = Number.parseInt(buf.toString('latin1', at + DATA.length, eol), 10)
        if (sent > 0) this.hist.record(nowUs() - sent)
      }
      from = eol + 1
    }
    if (n > 0) {
      this.events += n
      this.lastEventUs = nowUs()
      this.#counts[slot] = (this.#counts[slot] ?? 0) + n
    }
    // Keep an unfinished data line, or a tail that may hold the start of "data: ".
    const keep = unfinished ? from : Math.max(from, buf.length - DATA.length + 1)
    return keep < buf.length ? Buffer.from(buf.subarray(keep)) : Buffer.alloc(0)
  }

  /** Closes every subscriber; the disconnect count starts again from zero. */
  closeAll(): void {
    for (const s of this.#sockets) {
      this.#closing.add(s)
      s.destroy()
    }
    this.#sockets = []
    this.#counts = []
    this.unexpectedCloses = 0
  }
}
