import type { CaseResult } from '../types.ts'
import { burst, burstNotes, median } from './burst.ts'
import { type Scenario, cpuUsPer, fmt, openSubscribers, warmUp } from './context.ts'

/** One topic with N subscribers; publishes at saturation. */
export const fanout: Scenario = {
  name: 'fanout',
  title: 'Fan-out: one topic, N subscribers, publishing at saturation',
  async run(ctx) {
    const out: CaseResult[] = []
    const { subscribers, deliveriesPerBurst, rounds, conns } = ctx.sizes.fanout
    for (const n of subscribers) {
      const topics = { prefix: `fan${n}`, from: 0, to: 1 }
      const notes: string[] = []
      ctx.progress(`fan-out ${fmt(n)}: connecting subscribers`)
      try {
        const open = await openSubscribers(ctx, topics, n)
        if (open.failed > 0)
          notes.push(`${open.failed} of ${n} subscribers failed to connect: ${open.firstError}`)
        await warmUp(ctx, topics)
        const count = Math.min(2_000, Math.max(20, Math.round(deliveriesPerBurst / n)))
        const done = []
        for (let r = 1; r <= rounds; r++) {
          const b = await burst(ctx, topics, count, open.opened, conns)
          ctx.progress(
            `fan-out ${fmt(n)}: round ${r}/${rounds}: ${fmt(b.deliveriesPerSec)} deliveries/s, ${fmt(b.publishesPerSec)} publishes/s`,
          )
          done.push(b)
        }
        const m = median(done)
        const st = await ctx.pool.stats()
        if (st.unexpectedCloses > 0)
          notes.push(`${st.unexpectedCloses} subscribers were disconnected`)
        out.push({
          scenario: 'fanout',
          case: `${fmt(n)} subscribers`,
          target: ctx.target.name,
          metrics: {
            deliveriesPerSec: Math.round(m.deliveriesPerSec),
            publishesPerSec: Math.round(m.publishesPerSec),
            eventsPerBurst: count,
            subscribers: open.opened,
            cpuUsPerDelivery: cpuUsPer(m.serverSeconds, m.delivered),
          },
          cpu: m.cpu,
          notes: [...notes, ...burstNotes(m)],
        })
      } catch (err) {
        out.push(failed('fanout', `${fmt(n)} subscribers`, ctx.target.name, err, notes))
      } finally {
        await ctx.pool.each('close')
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    return out
  },
}

/** A case that could not be measured, with the reason. */
export function failed(
  scenario: string,
  label: string,
  target: string,
  err: unknown,
  notes: string[] = [],
): CaseResult {
  return {
    scenario,
    case: label,
    target,
    metrics: {},
    cpu: { server: 0, loadgen: 0 },
    notes: [...notes, `not measured: ${(err as Error).message.split('\n')[0]}`],
  }
}
