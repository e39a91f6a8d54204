import type { CaseResult } from '../types.ts'
import { burst, burstNotes, median } from './burst.ts'
import { type Scenario, openSubscribers, warmUp, fmt } from './context.ts'
import { failed } from './fanout.ts'

/** Many topics with one subscriber each; publishes spread round-robin over them. */
export const manyTopics: Scenario = {
  name: 'many-topics',
  title: 'Many topics: one subscriber each, publishes spread over them',
  async run(ctx) {
    const { topics: k, publishes, rounds, conns } = ctx.sizes.manyTopics
    const topics = { prefix: 'many', from: 0, to: k }
    const label = `${fmt(k)} topics × 1 subscriber`
    const notes: string[] = []
    try {
      ctx.progress(`many topics ${fmt(k)}: connecting subscribers`)
      const open = await openSubscribers(ctx, topics, 1)
      if (open.failed > 0)
        notes.push(`${open.failed} of ${k} subscribers failed to connect: ${open.firstError}`)
      await warmUp(ctx, topics, 60_000)
      const done = []
      for (let r = 1; r <= rounds; r++) {
        const b = await burst(ctx, topics, publishes, 1, conns)
        ctx.progress(
          `many topics ${fmt(k)}: round ${r}/${rounds}: ${fmt(b.deliveriesPerSec)} deliveries/s`,
        )
        done.push(b)
      }
      const m = median(done)
      return [
        {
          scenario: 'many-topics',
          case: label,
          target: ctx.target.name,
          metrics: {
            deliveriesPerSec: Math.round(m.deliveriesPerSec),
            publishesPerSec: Math.round(m.publishesPerSec),
            topics: open.opened,
          },
          cpu: m.cpu,
          notes: [...notes, ...burstNotes(m)],
        } satisfies CaseResult,
      ]
    } catch (err) {
      return [failed('many-topics', label, ctx.target.name, err, notes)]
    } finally {
      await ctx.pool.each('close')
      await new Promise((r) => setTimeout(r, 500))
    }
  },
}
