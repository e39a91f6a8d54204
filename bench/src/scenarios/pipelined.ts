import { Histogram } from '../histogram.ts'
import type { PublishResult, PublishSpec } from '../publishers.ts'
import type { CaseResult } from '../types.ts'
import {
  type BenchContext,
  type Scenario,
  fmt,
  openSubscribers,
  publishAll,
  sourceAddresses,
  waitDelivered,
  warmUp,
  withCpu,
} from './context.ts'
import { failed } from './fanout.ts'

/**
 * Publishes pipelined on keep-alive connections: several requests in one write, each answered
 * in order (the drop path, and a topic with one subscriber); then one publisher that sends small
 * events as fast as the target answers, with up to `window` requests in flight on its one
 * connection. Figures are publishes answered per second; where a subscriber listens, every
 * event must also have reached it.
 */
export const pipelined: Scenario = {
  name: 'pipelined',
  title: 'Pipelined publishes: several requests in flight on one connection',
  async run(ctx) {
    const out: CaseResult[] = []
    const { seconds, conns, depth, window } = ctx.sizes.pipelined
    const durationMs = seconds * 1000
    const dropLabel = `drop, ${depth} per write × ${conns} connections`
    try {
      const drops = { prefix: 'nobody', from: 0, to: 1_000 }
      const spec = { topics: drops, bodyBytes: 16, conns, pipeline: { depth, batch: true } }
      await publishAll(ctx, { ...spec, endpoints: ctx.target.publishAt, durationMs: 500 })
      ctx.progress(`pipelined: ${dropLabel}: ${seconds} s`)
      const { value: pub, cpu } = await withCpu(ctx, () =>
        publishAll(ctx, { ...spec, endpoints: ctx.target.publishAt, durationMs }),
      )
      out.push(result(ctx, dropLabel, pub, cpu))
    } catch (err) {
      out.push(failed('pipelined', dropLabel, ctx.target.name, err))
    }

    const topics = { prefix: 'piped', from: 0, to: 1 }
    const liveLabel = `one subscriber, ${depth} per write × ${Math.max(2, conns / 2)} connections`
    const fastLabel = `one publisher, 16-byte events, up to ${window} in flight`
    try {
      await openSubscribers(ctx, topics, 1, ctx.target.publishAt, 1)
      await warmUp(ctx, topics)
    } catch (err) {
      await ctx.pool.each('close')
      out.push(failed('pipelined', liveLabel, ctx.target.name, err))
      out.push(failed('pipelined', fastLabel, ctx.target.name, err))
      return out
    }
    const cases: [string, (c: BenchContext) => Promise<PublishResult & { seconds: number }>][] = [
      [
        liveLabel,
        (c) =>
          publishAll(c, {
            endpoints: c.target.publishAt,
            topics,
            bodyBytes: 16,
            conns: Math.max(2, conns / 2),
            durationMs,
            pipeline: { depth, batch: true },
          }),
      ],
      [
        fastLabel,
        (c) =>
          onePublisher(c, {
            topics,
            bodyBytes: 16,
            conns: 1,
            durationMs,
            pipeline: { depth: window, batch: false },
          }),
      ],
    ]
    for (const [label, go] of cases) {
      try {
        ctx.progress(`pipelined: ${label}: ${seconds} s`)
        await ctx.pool.each('reset')
        const { value, cpu } = await withCpu(ctx, async () => {
          const pub = await go(ctx)
          return { pub, got: await waitDelivered(ctx, pub.ok, 3_000) }
        })
        const r = result(ctx, label, value.pub, cpu)
        const span = Math.max(1e-6, (value.got.lastEventUs - value.pub.firstUs) / 1e6)
        r.metrics.deliveriesPerSec = Math.round(value.got.events / span)
        if (!value.got.complete) {
          r.notes.push(`the subscriber got ${fmt(value.got.events)} of ${fmt(value.pub.ok)} events`)
        }
        out.push(r)
      } catch (err) {
        out.push(failed('pipelined', label, ctx.target.name, err))
      }
    }
    await ctx.pool.each('close')
    return out
  },
}

/** One publisher process, one connection: what a single fast client gets. */
async function onePublisher(
  ctx: BenchContext,
  spec: Omit<PublishSpec, 'kind' | 'apiKey' | 'idPrefix' | 'localAddress' | 'endpoints'>,
): Promise<PublishResult & { seconds: number }> {
  const w = ctx.pool.publishers[0]
  if (!w) throw new Error('no publisher process')
  const r = await w.publish({
    ...spec,
    endpoints: ctx.target.publishAt,
    kind: ctx.target.kind,
    apiKey: ctx.target.apiKey,
    idPrefix: `one-${Date.now().toString(36)}-`,
    localAddress: sourceAddresses(w.index)[0],
  })
  return { ...r, seconds: (r.lastUs - r.firstUs) / 1e6 }
}

function result(
  ctx: BenchContext,
  label: string,
  pub: PublishResult & { seconds: number },
  cpu: CaseResult['cpu'],
): CaseResult {
  const h = new Histogram()
  h.merge(pub.reply)
  const rate = pub.ok / Math.max(1e-6, pub.seconds)
  ctx.progress(`pipelined: ${label}: ${fmt(rate)} publishes/s`)
  const notes: string[] = []
  const other = Object.entries(pub.statuses).filter(([s]) => s !== '202')
  if (other.length > 0) {
    notes.push(`replies other than 202: ${other.map(([s, n]) => `${n} × ${s}`).join(', ')}`)
  }
  if (pub.errors.length > 0) notes.push(`${pub.failed} failed: ${pub.errors[0]}`)
  return {
    scenario: 'pipelined',
    case: label,
    target: ctx.target.name,
    metrics: {
      publishesPerSec: Math.round(rate),
      replyP50Ms: Math.round(h.quantile(0.5) / 10) / 100,
      replyP99Ms: Math.round(h.quantile(0.99) / 10) / 100,
    },
    cpu,
    notes,
  }
}
