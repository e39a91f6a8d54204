import { Histogram } from '../histogram.ts'
import { PARTIAL_DECLARED, type PublishResult } from '../publishers.ts'
import type { CaseResult } from '../types.ts'
import { type BenchContext, type Scenario, publishAll, withCpu, fmt } from './context.ts'
import { failed } from './fanout.ts'

/**
 * The drop path: publishes to topics nobody subscribes to, on keep-alive connections, as fast
 * as they go; then the time to answer a POST that declares 10 MB and sends 10 bytes.
 */
export const drop: Scenario = {
  name: 'drop',
  title: 'Drop path: publishes to topics without subscribers',
  async run(ctx) {
    const out: CaseResult[] = []
    const { seconds, conns, partialTries, partialTimeoutMs } = ctx.sizes.drop
    const topics = { prefix: 'nobody', from: 0, to: 1_000 }
    try {
      ctx.progress(`drop path: ${seconds} s at saturation`)
      // Warm-up: half a second, not recorded.
      await publishAll(ctx, {
        endpoints: ctx.target.publishAt,
        conns,
        topics,
        bodyBytes: 16,
        durationMs: 500,
      })
      const { value: pub, cpu } = await withCpu(ctx, () =>
        publishAll(ctx, {
          endpoints: ctx.target.publishAt,
          conns,
          topics,
          bodyBytes: 16,
          durationMs: seconds * 1000,
        }),
      )
      const h = new Histogram()
      h.merge(pub.reply)
      ctx.progress(`drop path: ${fmt(pub.ok / pub.seconds)} requests/s`)
      out.push({
        scenario: 'drop',
        case: 'keep-alive, 16-byte body',
        target: ctx.target.name,
        metrics: {
          requestsPerSec: Math.round(pub.ok / pub.seconds),
          replyP50Ms: Math.round(h.quantile(0.5) / 10) / 100,
          replyP99Ms: Math.round(h.quantile(0.99) / 10) / 100,
        },
        cpu,
        notes: statusNotes(pub),
      })
    } catch (err) {
      out.push(failed('drop', 'keep-alive, 16-byte body', ctx.target.name, err))
    }
    out.push(await partial(ctx, partialTries, partialTimeoutMs))
    return out
  },
}

function statusNotes(pub: PublishResult): string[] {
  const notes: string[] = []
  const other = Object.entries(pub.statuses).filter(([s]) => s !== '202')
  if (other.length > 0)
    notes.push(`replies other than 202: ${other.map(([s, n]) => `${n} × ${s}`).join(', ')}`)
  if (pub.errors.length > 0) notes.push(`errors: ${pub.errors[0]}`)
  return notes
}

/** POSTs whose declared body never fully arrives: how long until the reply head? */
async function partial(ctx: BenchContext, tries: number, timeoutMs: number): Promise<CaseResult> {
  const label = 'declared 100 kB body, 10 bytes sent'
  const w = ctx.pool.publishers[0]
  if (!w) return failed('drop', label, ctx.target.name, new Error('no publisher process'))
  ctx.progress(
    `drop path: ${tries} POSTs whose body never arrives (declared ${PARTIAL_DECLARED} bytes)`,
  )
  const ep = ctx.target.publishAt[0]
  const rs = await Promise.all(
    Array.from({ length: tries }, (_, i) =>
      w.call<{ ms: number | null; status: number | null }>('unanswered', {
        kind: ctx.target.kind,
        ep,
        apiKey: ctx.target.apiKey,
        topic: `nobody-partial-${i}`,
        ms: timeoutMs,
      }),
    ),
  )
  const answered = rs
    .filter((r) => r.ms !== null)
    .map((r) => r.ms as number)
    .sort((a, b) => a - b)
  const notes: string[] = []
  if (answered.length === 0) notes.push(`no answer within ${timeoutMs / 1000} s`)
  else if (answered.length < tries) {
    notes.push(`${tries - answered.length} of ${tries} got no answer within ${timeoutMs / 1000} s`)
  }
  const statuses = [...new Set(rs.map((r) => r.status).filter((s) => s !== null))]
  if (statuses.length > 0) notes.push(`status ${statuses.join(', ')}`)
  return {
    scenario: 'drop',
    case: label,
    target: ctx.target.name,
    metrics: {
      answerMedianMs:
        answered.length === tries
          ? Math.round((answered[Math.floor((tries - 1) / 2)] as number) * 100) / 100
          : null,
      answered: answered.length,
      tries,
    },
    cpu: { server: 0, loadgen: 0 },
    notes,
  }
}
