import type { CaseResult, TopicRange } from '../types.ts'
import { type BenchContext, publishAll, waitDelivered, withCpu } from './context.ts'

export interface BurstOutcome {
  deliveriesPerSec: number
  publishesPerSec: number
  delivered: number
  expected: number
  complete: boolean
  failedPublishes: number
  cpu: CaseResult['cpu']
  /** CPU seconds the target's serving processes used for the burst. */
  serverSeconds: number
}

/**
 * Publishes `count` events round-robin over `topics` as fast as `conns` keep-alive connections
 * go, and times until the last subscriber received the last event. Deliveries per second are
 * end to end (first send → last receipt): buffering cannot make them look better than they are.
 */
export async function burst(
  ctx: BenchContext,
  topics: TopicRange,
  count: number,
  subscribersPerTopic: number,
  conns: number,
  bodyBytes = 64,
): Promise<BurstOutcome> {
  await ctx.pool.each('reset')
  const expected = count * subscribersPerTopic
  const { value, cpu, serverSeconds } = await withCpu(ctx, async () => {
    const pub = await publishAll(ctx, {
      endpoints: ctx.target.publishAt,
      conns,
      topics,
      bodyBytes,
      count,
    })
    const got = await waitDelivered(ctx, expected)
    return { pub, got }
  })
  const { pub, got } = value
  const seconds = Math.max(1e-6, (got.lastEventUs - pub.firstUs) / 1e6)
  return {
    deliveriesPerSec: got.events / seconds,
    publishesPerSec: pub.ok / Math.max(1e-6, pub.seconds),
    delivered: got.events,
    expected,
    complete: got.complete,
    failedPublishes: pub.failed,
    cpu,
    serverSeconds,
  }
}

/** The round with the median deliveries per second. */
export function median(rounds: BurstOutcome[]): BurstOutcome {
  const sorted = [...rounds].sort((a, b) => a.deliveriesPerSec - b.deliveriesPerSec)
  return sorted[Math.floor((sorted.length - 1) / 2)] as BurstOutcome
}

/** Notes a reader needs about a burst that did not go cleanly. */
export function burstNotes(b: BurstOutcome): string[] {
  const notes: string[] = []
  if (!b.complete) notes.push(`incomplete: ${b.delivered} of ${b.expected} deliveries arrived`)
  if (b.failedPublishes > 0) notes.push(`${b.failedPublishes} publishes failed`)
  return notes
}
