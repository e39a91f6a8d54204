import { Histogram, nowUs } from './histogram.ts'
import { PipelinedHttpConnection, RawHttpConnection, publishHead } from './http-client.ts'
import type { ApiKind, Endpoint, TopicRange } from './types.ts'

export interface PublishSpec {
  kind: ApiKind
  apiKey: string
  endpoints: Endpoint[]
  /** Keep-alive connections, each with one request in flight. */
  conns: number
  topics: TopicRange
  bodyBytes: number
  /** Burst: this many publishes, as fast as the connections go. */
  count?: number
  /** Timed: publish until this much time has passed. */
  durationMs?: number
  /** Open loop: this many publishes per second (with durationMs), whatever the replies do. */
  rate?: number
  localAddress?: string | undefined
  /** Prefix of the event ids (unique per worker). */
  idPrefix: string
  /** Where in the topic range this worker starts (workers share the range out). */
  offset?: number
  /**
   * Pipelining: each connection has up to `depth` requests in flight. `batch`: `depth` requests
   * leave in one write and the next batch waits for every reply; otherwise a new request leaves
   * as soon as a reply comes back (a publisher going as fast as the server answers).
   */
  pipeline?: { depth: number; batch: boolean }
  /** Instead of publishing: `GET` this path (a trivial route, e.g. /healthz), no body. */
  get?: string
}

export interface PublishResult {
  sent: number
  ok: number
  failed: number
  statuses: Record<string, number>
  /** Monotonic µs of the first send and of the last reply. */
  firstUs: number
  lastUs: number
  /** Request → reply times. */
  reply: ReturnType<Histogram['toJSON']>
  /** Open loop: sends that left more than 5 ms after their scheduled time. */
  late: number
  errors: string[]
}

/**
 * The body of one publish: the send time in µs first (subscribers in latency mode read it),
 * padded with `x` to the requested size.
 */
function body(bytes: number): Buffer {
  const stamp = String(nowUs())
  const b = Buffer.allocUnsafe(Math.max(bytes, stamp.length))
  b.write(stamp, 0, 'latin1')
  if (b.length > stamp.length) b.fill(120, stamp.length)
  return b
}

export async function runPublishers(spec: PublishSpec): Promise<PublishResult> {
  if (spec.pipeline) return runPipelined(spec, spec.pipeline)
  const conns = Array.from(
    { length: spec.conns },
    (_, i) =>
      new RawHttpConnection(
        spec.endpoints[i % spec.endpoints.length] as Endpoint,
        spec.localAddress,
      ),
  )
  const span = spec.topics.to - spec.topics.from
  const reply = new Histogram()
  const res: PublishResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    statuses: {},
    firstUs: 0,
    lastUs: 0,
    reply: reply.toJSON(),
    late: 0,
    errors: [],
  }
  const one = async (c: RawHttpConnection, ep: Endpoint) => {
    const i = res.sent++
    const topic = `${spec.topics.prefix}-${spec.topics.from + ((i + (spec.offset ?? 0)) % span)}`
    const b = spec.get === undefined ? body(spec.bodyBytes) : undefined
    const head = b
      ? publishHead(spec.kind, ep, spec.apiKey, topic, `${spec.idPrefix}${i}`, b.length)
      : `GET ${spec.get} HTTP/1.1\r\nhost: ${ep.host}:${ep.port}\r\n\r\n`
    const t0 = nowUs()
    if (res.firstUs === 0) res.firstUs = t0
    try {
      const r = await c.request(head, b)
      const key = String(r.status)
      res.statuses[key] = (res.statuses[key] ?? 0) + 1
      if (r.status >= 200 && r.status < 300) res.ok++
      else res.failed++
    } catch (err) {
      res.failed++
      if (res.errors.length < 5) res.errors.push((err as Error).message)
    }
    const t1 = nowUs()
    reply.record(t1 - t0)
    res.lastUs = t1
  }
  const deadline = spec.durationMs ? Date.now() + spec.durationMs : Number.POSITIVE_INFINITY
  if (spec.rate) {
    await openLoop(spec, conns, one, deadline, res)
  } else {
    const limit = spec.count ?? Number.POSITIVE_INFINITY
    await Promise.all(
      conns.map(async (c, k) => {
        const ep = spec.endpoints[k % spec.endpoints.length] as Endpoint
        while (res.sent < limit && Date.now() < deadline) await one(c, ep)
      }),
    )
  }
  for (const c of conns) c.close()
  res.reply = reply.toJSON()
  return res
}

/** `runPublishers` with pipelined requests (see `PublishSpec.pipeline`). */
async function runPipelined(
  spec: PublishSpec,
  { depth, batch }: { depth: number; batch: boolean },
): Promise<PublishResult> {
  const conns = Array.from(
    { length: spec.conns },
    (_, i) =>
      new PipelinedHttpConnection(
        spec.endpoints[i % spec.endpoints.length] as Endpoint,
        spec.localAddress,
      ),
  )
  const span = spec.topics.to - spec.topics.from
  const reply = new Histogram()
  const res: PublishResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    statuses: {},
    firstUs: 0,
    lastUs: 0,
    reply: reply.toJSON(),
    late: 0,
    errors: [],
  }
  const limit = spec.count ?? Number.POSITIVE_INFINITY
  const deadline = spec.durationMs ? Date.now() + spec.durationMs : Number.POSITIVE_INFINITY
  const more = (c: PipelinedHttpConnection) =>
    !c.closed && res.sent < limit && Date.now() < deadline
  const one = (c: PipelinedHttpConnection, ep: Endpoint): Promise<void> => {
    const i = res.sent++
    const topic = `${spec.topics.prefix}-${spec.topics.from + ((i + (spec.offset ?? 0)) % span)}`
    const b = body(spec.bodyBytes)
    const head = publishHead(spec.kind, ep, spec.apiKey, topic, `${spec.idPrefix}${i}`, b.length)
    const t0 = nowUs()
    if (res.firstUs === 0) res.firstUs = t0
    return c.send(head, b).then(
      (r) => {
        const key = String(r.status)
        res.statuses[key] = (res.statuses[key] ?? 0) + 1
        if (r.status >= 200 && r.status < 300) res.ok++
        else res.failed++
        const t1 = nowUs()
        reply.record(t1 - t0)
        res.lastUs = t1
      },
      (err: unknown) => {
        res.failed++
        if (res.errors.length < 5) res.errors.push((err as Error).message)
      },
    )
  }
  await Promise.all(
    conns.map(async (c, k) => {
      const ep = spec.endpoints[k % spec.endpoints.length] as Endpoint
      if (batch) {
        while (more(c)) {
          const sent: Promise<void>[] = []
          for (let j = 0; j < depth && more(c); j++) sent.push(one(c, ep))
          c.flush()
          await Promise.all(sent)
        }
        return
      }
      // A window of `depth`: every reply lets one more request go; the requests let go within
      // one turn of the event loop leave in one write.
      await new Promise<void>((done) => {
        let active = 0
        let flushing = false
        const pump = () => {
          while (active < depth && more(c)) {
            active++
            one(c, ep).then(() => {
              active--
              pump()
            })
          }
          if (!flushing) {
            flushing = true
            setImmediate(() => {
              flushing = false
              c.flush()
            })
          }
          if (active === 0) done()
        }
        pump()
      })
    }),
  )
  for (const c of conns) c.close()
  res.reply = reply.toJSON()
  return res
}

/** Sends at a fixed rate on whichever connection is free; counts sends that fell behind. */
async function openLoop(
  spec: PublishSpec,
  conns: RawHttpConnection[],
  one: (c: RawHttpConnection, ep: Endpoint) => Promise<void>,
  deadline: number,
  res: PublishResult,
): Promise<void> {
  const free = conns.map((c, k) => ({
    c,
    ep: spec.endpoints[k % spec.endpoints.length] as Endpoint,
  }))
  const inflight = new Set<Promise<void>>()
  const start = performance.now()
  const interval = 1000 / (spec.rate as number)
  let scheduled = 0
  while (Date.now() < deadline) {
    const due = start + scheduled * interval
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const slot = free.pop()
    if (!slot) {
      // Every connection is busy: wait for one rather than queue without bound.
      await Promise.race(inflight)
      continue
    }
    if (performance.now() - due > 5) res.late++
    scheduled++
    const p: Promise<void> = one(slot.c, slot.ep).finally(() => {
      inflight.delete(p)
      free.push(slot)
    })
    inflight.add(p)
  }
  await Promise.all(inflight)
}

/** The declared size: under every target's body limit (Nchan's 1 MiB refuses 10 MB at once). */
export const PARTIAL_DECLARED = 100_000

/**
 * Declares a large body, sends a few bytes of it, and times the reply head: the drop path
 * answers from the headers alone. Returns ms, or null when no reply came within `timeoutMs`.
 */
export async function unansweredBody(
  kind: ApiKind,
  ep: Endpoint,
  apiKey: string,
  topic: string,
  timeoutMs: number,
): Promise<{ ms: number | null; status: number | null }> {
  const c = new RawHttpConnection(ep)
  const head = publishHead(kind, ep, apiKey, topic, 'partial-1', PARTIAL_DECLARED)
  const t0 = performance.now()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((r) => {
    timer = setTimeout(() => r(null), timeoutMs)
  })
  try {
    const r = await Promise.race([c.requestPartial(head, Buffer.from('0123456789')), timeout])
    return r ? { ms: performance.now() - t0, status: r.status } : { ms: null, status: null }
  } catch {
    return { ms: null, status: null }
  } finally {
    clearTimeout(timer)
    c.close()
  }
}
