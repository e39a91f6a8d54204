import { Histogram } from '../histogram.ts'
import type { CaseResult } from '../types.ts'
import {
  type Scenario,
  openSubscribers,
  publishAll,
  waitDelivered,
  warmUp,
  withCpu,
  cpuUsPer,
  fmt,
} from './context.ts'
import { failed } from './fanout.ts'

/**
 * The publish API's own throughput: one topic with one subscriber (so every body is read and
 * delivered), closed loop on keep-alive connections, small and 16 KiB bodies.
 */
export const publish: Scenario = {
  name: 'publish',
  title: 'Publish API: throughput by body size (one subscriber)',
  async run(ctx) {
    const out: CaseResult[] = []
    const { seconds, conns, bodies } = ctx.sizes.publish
    const topics = { prefix: 'pub', from: 0, to: 1 }
    try {
      await openSubscribers(ctx, topics, 1, ctx.target.publishAt, 1)
      await warmUp(ctx, topics)
    } catch (err) {
      await ctx.pool.each('close')
      return bodies.map((b) => failed('publish', `${fmt(b)}-byte body`, ctx.target.name, err))
    }
    for (const bytes of bodies) {
      const label = `${fmt(bytes)}-byte body`
      try {
        ctx.progress(`publish ${label}: ${seconds} s`)
        await ctx.pool.each('reset')
        const { value, cpu, serverSeconds } = await withCpu(ctx, async () => {
          const pub = await publishAll(ctx, {
            endpoints: ctx.target.publishAt,
            conns,
            topics,
            bodyBytes: bytes,
            durationMs: seconds * 1000,
          })
          const got = await waitDelivered(ctx, pub.ok, 3_000)
          return { pub, got }
        })
        const { pub, got } = value
        const h = new Histogram()
        h.merge(pub.reply)
        const rate = pub.ok / pub.seconds
        const notes: string[] = []
        if (!got.complete) notes.push(`the subscriber got ${got.events} of ${pub.ok} events`)
        if (pub.failed > 0)
          notes.push(
            `${pub.failed} publishes failed: ${pub.errors[0] ?? JSON.stringify(pub.statuses)}`,
          )
        ctx.progress(`publish ${label}: ${fmt(rate)} publishes/s`)
        out.push({
          scenario: 'publish',
          case: label,
          target: ctx.target.name,
          metrics: {
            publishesPerSec: Math.round(rate),
            mibPerSec: Math.round(((rate * bytes) / 1048576) * 10) / 10,
            replyP50Ms: Math.round(h.quantile(0.5) / 10) / 100,
            replyP99Ms: Math.round(h.quantile(0.99) / 10) / 100,
            cpuUsPerPublish: cpuUsPer(serverSeconds, pub.ok),
          },
          cpu,
          notes,
        })
      } catch (err) {
        out.push(failed('publish', label, ctx.target.name, err))
      }
    }
    await ctx.pool.each('close')
    return out
  },
}
