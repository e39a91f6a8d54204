import { Histogram } from '../histogram.ts'
import { CpuMeter, cpuSeconds } from '../proc.ts'
import type { LoadPool, LoadWorker } from '../pool.ts'
import type { PublishResult, PublishSpec } from '../publishers.ts'
import type { OpenResult } from '../subscribers.ts'
import type { RunningTarget } from '../targets/types.ts'
import type { CaseResult, Endpoint, TopicRange } from '../types.ts'
import type { Sizes } from './sizes.ts'

/** What every scenario gets: the target, the load generator, the sizes of this mode. */
/** A whole number with thousands separators, as the progress lines and notes show it. */
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

export interface BenchContext {
  target: RunningTarget
  pool: LoadPool
  sizes: Sizes
  progress(msg: string): void
}

export type Scenario = {
  name: string
  title: string
  run(ctx: BenchContext): Promise<CaseResult[]>
}

/**
 * Source addresses of load worker `k`: eight each, used in turn, so that no address runs out of
 * ephemeral ports (~28,000 each, counting the ones still in TIME_WAIT from the last case).
 * BENCH_LOOPBACK_SOURCES=0: none (the system picks 127.0.0.1), for a network stack that cannot
 * bind 127.1.x.y.
 */
export function sourceAddresses(k: number): string[] {
  if (process.env.BENCH_LOOPBACK_SOURCES === '0') return []
  return Array.from({ length: 8 }, (_, i) => `127.1.${k}.${i + 1}`)
}

/**
 * Opens `copies` subscriptions to each topic of `topics`, shared out over the first
 * `workers` subscriber processes (2 unless more are needed), round-robin over `endpoints`.
 */
export async function openSubscribers(
  ctx: BenchContext,
  topics: TopicRange,
  copies: number,
  endpoints: Endpoint[] = ctx.target.subscribeAt,
  workers = Math.min(2, ctx.pool.subscribers.length),
  transport: 'sse' | 'ws' = 'sse',
): Promise<OpenResult & { rate: number }> {
  const ws = ctx.pool.subscribers.slice(0, workers)
  const span = topics.to - topics.from
  const started = performance.now()
  const parts = ws.map((w, k) => {
    // One topic: share its copies; many topics: share the topics.
    const slice =
      span === 1
        ? { topics, copies: share(copies, ws.length, k) }
        : {
            topics: {
              prefix: topics.prefix,
              from: topics.from + share(span, ws.length, k, true),
              to: topics.from + share(span, ws.length, k + 1, true),
            },
            copies,
          }
    return w.open({
      kind: ctx.target.kind,
      endpoints,
      ...slice,
      transport,
      localAddresses: sourceAddresses(w.index),
      concurrency: 200,
      timeoutMs: 120_000,
    })
  })
  const all = await Promise.all(parts)
  const ms = performance.now() - started
  const opened = all.reduce((a, r) => a + r.opened, 0)
  return {
    opened,
    failed: all.reduce((a, r) => a + r.failed, 0),
    ms,
    rate: opened / (ms / 1000),
    firstError: all.find((r) => r.firstError)?.firstError,
  }
}

/** `total` split in `n` parts: part k (or, cumulative, the sum of parts before k). */
function share(total: number, n: number, k: number, cumulative = false): number {
  const base = Math.floor(total / n)
  const extra = total % n
  if (!cumulative) return base + (k < extra ? 1 : 0)
  return base * k + Math.min(k, extra)
}

/** Publishes from every publisher worker at once; `count` and `conns` are shared out. */
export async function publishAll(
  ctx: BenchContext,
  spec: Omit<PublishSpec, 'kind' | 'apiKey' | 'idPrefix' | 'localAddress'>,
): Promise<PublishResult & { seconds: number }> {
  const ws: LoadWorker[] = ctx.pool.publishers
  const rs = await Promise.all(
    ws.map((w, k) =>
      w.publish({
        ...spec,
        kind: ctx.target.kind,
        apiKey: ctx.target.apiKey,
        idPrefix: `w${k}-${Date.now().toString(36)}-`,
        localAddress: sourceAddresses(w.index)[0],
        conns: Math.max(1, share(spec.conns, ws.length, k)),
        offset: share(spec.count ?? spec.topics.to - spec.topics.from, ws.length, k, true),
        ...(spec.count !== undefined ? { count: share(spec.count, ws.length, k) } : {}),
        ...(spec.rate !== undefined ? { rate: spec.rate / ws.length } : {}),
      }),
    ),
  )
  const statuses: Record<string, number> = {}
  for (const r of rs)
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v
  const firstUs = Math.min(...rs.map((r) => r.firstUs).filter((v) => v > 0))
  const lastUs = Math.max(...rs.map((r) => r.lastUs))
  const reply = new Histogram()
  for (const r of rs) reply.merge(r.reply)
  return {
    sent: rs.reduce((a, r) => a + r.sent, 0),
    ok: rs.reduce((a, r) => a + r.ok, 0),
    failed: rs.reduce((a, r) => a + r.failed, 0),
    statuses,
    firstUs,
    lastUs,
    reply: reply.toJSON(),
    late: rs.reduce((a, r) => a + r.late, 0),
    errors: rs.flatMap((r) => r.errors),
    seconds: (lastUs - firstUs) / 1e6,
  }
}

/** Waits until the subscribers got `expected` events in all, or nothing arrives for `idleMs`. */
export async function waitDelivered(ctx: BenchContext, expected: number, idleMs = 5_000) {
  let last = -1
  let lastChange = Date.now()
  for (;;) {
    const st = await ctx.pool.stats()
    if (st.events >= expected) return { ...st, complete: true }
    if (st.events !== last) {
      last = st.events
      lastChange = Date.now()
    } else if (Date.now() - lastChange > idleMs) return { ...st, complete: false }
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * Publishes one probe per topic until every subscriber has received one (subscriptions in a
 * cluster or in Durable Objects register asynchronously), then zeroes the counters.
 */
export async function warmUp(ctx: BenchContext, topics: TopicRange, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await publishAll(ctx, {
      endpoints: ctx.target.publishAt,
      conns: 8,
      topics,
      bodyBytes: 16,
      count: topics.to - topics.from,
    })
    await new Promise((r) => setTimeout(r, 100))
    const st = await ctx.pool.stats()
    if (st.minPerSubscriber >= 1) break
    if (Date.now() > deadline)
      throw new Error(`warm-up: some subscribers got nothing in ${timeoutMs} ms`)
  }
  await ctx.pool.each('reset')
}

/** The processes that serve the target's requests (see RunningTarget.runtimePids). */
export function runtimePids(ctx: BenchContext): number[] {
  return ctx.target.runtimePids?.() ?? ctx.target.pids()
}

/**
 * Runs `fn` while measuring the target's CPU and the load generator's, in % of one core, and
 * the CPU seconds the target's serving processes used (`serverSeconds`: divided by the
 * operations, the CPU time per publish, drop or delivery).
 */
export async function withCpu<T>(
  ctx: BenchContext,
  fn: () => Promise<T>,
): Promise<{ value: T; cpu: CaseResult['cpu']; serverSeconds: number }> {
  const meter = new CpuMeter(() => ctx.target.pids())
  const load0 = await ctx.pool.cpuSeconds()
  const run0 = cpuSeconds(runtimePids(ctx))
  const t0 = performance.now()
  meter.start()
  const value = await fn()
  const server = meter.stop()
  const serverSeconds = cpuSeconds(runtimePids(ctx)) - run0
  const wall = (performance.now() - t0) / 1000
  const loadgen = (((await ctx.pool.cpuSeconds()) - load0) / wall) * 100
  return {
    value,
    cpu: { server: Math.round(server), loadgen: Math.round(loadgen) },
    serverSeconds,
  }
}

/** CPU µs per operation (the /proc clock counts in 10 ms steps: null below 5 ticks). */
export function cpuUsPer(serverSeconds: number, ops: number): number | null {
  if (ops <= 0 || serverSeconds < 0.05) return null
  return Math.round((serverSeconds / ops) * 1e6 * 10) / 10
}
