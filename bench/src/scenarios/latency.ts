import type { CaseResult, Endpoint } from '../types.ts'
import {
  type BenchContext,
  type Scenario,
  openSubscribers,
  publishAll,
  waitDelivered,
  warmUp,
  withCpu,
  fmt,
} from './context.ts'
import { failed } from './fanout.ts'

const ms = (us: number) => Math.round(us / 10) / 100

/**
 * Publish → receive latency at a fixed rate: every subscriber reads the send time the publisher
 * wrote into the body (both on this machine's monotonic clock). On a cluster it runs twice:
 * subscribers on the publishing node, and subscribers on the two other nodes.
 */
export const latency: Scenario = {
  name: 'latency',
  title: 'Latency: publish → receive at a fixed rate',
  async run(ctx) {
    const out: CaseResult[] = []
    const { subscribers: n, rates, seconds } = ctx.sizes.latency
    const placements: Array<[string, Endpoint[]]> = [['', ctx.target.publishAt]]
    if (ctx.target.subscribeAt.length > 1) {
      placements.push([' across nodes', ctx.target.subscribeAt.slice(1)])
    }
    for (const [where, endpoints] of placements) {
      for (const rate of rates) {
        const label = `${rate}/s × ${fmt(n)} subscribers${where}`
        try {
          out.push(await measure(ctx, label, n, rate, seconds, endpoints))
        } catch (err) {
          out.push(failed('latency', label, ctx.target.name, err))
        } finally {
          await ctx.pool.each('close')
          await ctx.pool.each('latency', false)
          await new Promise((r) => setTimeout(r, 500))
        }
      }
    }
    return out
  },
}

async function measure(
  ctx: BenchContext,
  label: string,
  n: number,
  rate: number,
  seconds: number,
  endpoints: Endpoint[],
): Promise<CaseResult> {
  const topics = { prefix: `lat${rate}`, from: 0, to: 1 }
  const notes: string[] = []
  ctx.progress(`latency ${label}: connecting`)
  const open = await openSubscribers(ctx, topics, n, endpoints)
  if (open.failed > 0)
    notes.push(`${open.failed} of ${n} subscribers failed to connect: ${open.firstError}`)
  await warmUp(ctx, topics)
  // One second at the rate first, not recorded: connections and JIT settle.
  await publishAll(ctx, {
    endpoints: ctx.target.publishAt,
    conns: 8,
    topics,
    bodyBytes: 32,
    rate,
    durationMs: 1000,
  })
  await waitDelivered(ctx, Number.POSITIVE_INFINITY, 300)
  await ctx.pool.each('reset')
  await ctx.pool.each('latency', true)
  ctx.progress(`latency ${label}: measuring for ${seconds} s`)
  const { value, cpu } = await withCpu(ctx, async () => {
    const pub = await publishAll(ctx, {
      endpoints: ctx.target.publishAt,
      conns: 8,
      topics,
      bodyBytes: 32,
      rate,
      durationMs: seconds * 1000,
    })
    const got = await waitDelivered(ctx, pub.ok * open.opened, 3_000)
    return { pub, got }
  })
  const { pub, got } = value
  const h = got.hist
  if (!got.complete)
    notes.push(`incomplete: ${got.events} of ${pub.ok * open.opened} deliveries arrived`)
  if (pub.late > 0) notes.push(`${pub.late} publishes left > 5 ms late (load generator busy)`)
  if (pub.failed > 0) notes.push(`${pub.failed} publishes failed`)
  ctx.progress(`latency ${label}: p50 ${ms(h.quantile(0.5))} ms, p99 ${ms(h.quantile(0.99))} ms`)
  return {
    scenario: 'latency',
    case: label,
    target: ctx.target.name,
    metrics: {
      p50Ms: ms(h.quantile(0.5)),
      p99Ms: ms(h.quantile(0.99)),
      p999Ms: ms(h.quantile(0.999)),
      maxMs: ms(h.quantile(1)),
      samples: h.count,
      publishes: pub.ok,
    },
    cpu,
    notes,
  }
}
