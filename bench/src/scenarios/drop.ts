import { Histogram } from '../histogram.ts'
import { PARTIAL_DECLARED, type PublishResult } from '../publishers.ts'
import type { CaseResult } from '../types.ts'
import { type BenchContext, type Scenario, cpuUsPer, fmt, publishAll, withCpu } from './context.ts'
import { failed } from './fanout.ts'

/**
 * The drop path: publishes to topics nobody subscribes to, on keep-alive connections, as fast
 * as they go (first one publish to each of the 1,000 topic names, then the same names for a few
 * seconds); the target's ceiling for a request that does nothing (`GET /healthz`); then the time
 * to answer a POST that declares 100 kB and sends 10 bytes. Each rate comes with the target's
 * CPU time per request.
 */
export const drop: Scenario = {
  name: 'drop',
  title: 'Drop path: publishes to topics without subscribers',
  async run(ctx) {
    const out: CaseResult[] = []
    const { seconds, conns, partialTries, partialTimeoutMs } = ctx.sizes.drop
    const topics = { prefix: 'nobody', from: 0, to: 1_000 }
    try {
      // First publish to each topic name: where a topic has its own state (a Durable Object
      // per topic), this is where it is created.
      ctx.progress(`drop path: one publish to each of ${fmt(topics.to)} fresh topics`)
      const { value: first, serverSeconds: firstSeconds } = await withCpu(ctx, () =>
        publishAll(ctx, {
          endpoints: ctx.target.publishAt,
          conns,
          topics,
          bodyBytes: 16,
          count: topics.to - topics.from,
        }),
      )
      out.push({
        scenario: 'drop',
        case: `first publish to each of ${fmt(topics.to)} fresh topics`,
        target: ctx.target.name,
        metrics: {
          requestsPerSec: Math.round(first.ok / first.seconds),
          cpuUsPerDrop: cpuUsPer(firstSeconds, first.ok),
        },
        cpu: { server: 0, loadgen: 0 },
        notes: statusNotes(first),
      })
      ctx.progress(`drop path: ${seconds} s at saturation`)
      // Warm-up: half a second, not recorded.
      await publishAll(ctx, {
        endpoints: ctx.target.publishAt,
        conns,
        topics,
        bodyBytes: 16,
        durationMs: 500,
      })
      const {
        value: pub,
        cpu,
        serverSeconds,
      } = await withCpu(ctx, () =>
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
          cpuUsPerDrop: cpuUsPer(serverSeconds, pub.ok),
        },
        cpu,
        notes: statusNotes(pub),
      })
    } catch (err) {
      out.push(failed('drop', 'keep-alive, 16-byte body', ctx.target.name, err))
    }
    if (ctx.target.kind === 'gateway') out.push(await trivialRoute(ctx))
    out.push(await partial(ctx, partialTries, partialTimeoutMs))
    return out
  },
}

/**
 * The target's own ceiling for a request that does nothing: `GET /healthz` at saturation on the
 * drop path's connections. The drop path cannot be faster than this on the same runtime.
 */
async function trivialRoute(ctx: BenchContext): Promise<CaseResult> {
  const label = 'trivial route: GET /healthz'
  const { seconds, conns } = ctx.sizes.drop
  const spec = {
    endpoints: ctx.target.publishAt,
    conns,
    topics: { prefix: 'healthz', from: 0, to: 1 },
    bodyBytes: 0,
    get: '/healthz',
  }
  try {
    ctx.progress(`trivial route: ${seconds} s of GET /healthz at saturation`)
    await publishAll(ctx, { ...spec, durationMs: 500 })
    const {
      value: pub,
      cpu,
      serverSeconds,
    } = await withCpu(ctx, () => publishAll(ctx, { ...spec, durationMs: seconds * 1000 }))
    const h = new Histogram()
    h.merge(pub.reply)
    ctx.progress(`trivial route: ${fmt(pub.ok / pub.seconds)} requests/s`)
    return {
      scenario: 'drop',
      case: label,
      target: ctx.target.name,
      metrics: {
        requestsPerSec: Math.round(pub.ok / pub.seconds),
        replyP50Ms: Math.round(h.quantile(0.5) / 10) / 100,
        replyP99Ms: Math.round(h.quantile(0.99) / 10) / 100,
        cpuUsPerRequest: cpuUsPer(serverSeconds, pub.ok),
      },
      cpu,
      notes: statusNotes(pub, '200'),
    }
  } catch (err) {
    return failed('drop', label, ctx.target.name, err)
  }
}

function statusNotes(pub: PublishResult, expected = '202'): string[] {
  const notes: string[] = []
  const other = Object.entries(pub.statuses).filter(([s]) => s !== expected)
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
