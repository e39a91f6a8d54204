import { memoryBytes } from '../proc.ts'
import type { CaseResult } from '../types.ts'
import {
  type BenchContext,
  type Scenario,
  fmt,
  openSubscribers,
  runtimePids,
  withCpu,
} from './context.ts'
import { failed } from './fanout.ts'

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One load process holds at most this many sockets (open-file limit 20,000, less a margin). */
const PER_LOAD_PROCESS = 16_000

/**
 * Idle SSE (and, when asked, WebSocket) connections: the target's memory per connection (the growth of its processes'
 * proportional set size, divided by the connections) and how fast they connect. The
 * connections share 100 topics, so the figure is the connection's cost more than the topic's.
 */
export const connections: Scenario = {
  name: 'connections',
  title: 'Idle connections: memory per connection and connect rate',
  async run(ctx) {
    const out: CaseResult[] = []
    const c = ctx.sizes.connections
    for (const n of c.counts) out.push(await idle(ctx, n, 'sse'))
    for (const n of c.wsCounts) out.push(await idle(ctx, n, 'ws'))
    return out
  },
}

/** `n` idle subscribers of one transport: memory per connection, connect rate. */
async function idle(ctx: BenchContext, n: number, transport: 'sse' | 'ws'): Promise<CaseResult> {
  const label = `${fmt(n)} idle ${transport === 'ws' ? 'WebSocket' : 'SSE'} connections`
  const capacity = ctx.target.connectionsPerProcess * ctx.target.subscribeAt.length
  if (n > capacity) {
    return failed(
      'connections',
      label,
      ctx.target.name,
      new Error(
        `needs more than ${ctx.target.subscribeAt.length} process(es) × ${fmt(ctx.target.connectionsPerProcess)} connections (a process here holds at most 20,000 open files)`,
      ),
    )
  }
  if (transport === 'ws' && ctx.target.kind !== 'gateway') {
    return failed('connections', label, ctx.target.name, new Error('no WebSocket API'))
  }
  const workers = Math.max(2, Math.ceil(n / PER_LOAD_PROCESS))
  if (workers > ctx.pool.subscribers.length) {
    return failed(
      'connections',
      label,
      ctx.target.name,
      new Error(`needs ${workers} load processes`),
    )
  }
  try {
    await settle(1000)
    const before = memoryBytes(runtimePids(ctx))
    ctx.progress(`connections ${fmt(n)} (${transport}): connecting`)
    const topics = { prefix: `idle-${transport}`, from: 0, to: 100 }
    const { value: open, cpu } = await withCpu(ctx, () =>
      openSubscribers(ctx, topics, Math.ceil(n / 100), ctx.target.subscribeAt, workers, transport),
    )
    await settle(2000)
    const after = memoryBytes(runtimePids(ctx))
    const notes: string[] = []
    if (open.failed > 0)
      notes.push(
        `${open.failed} of ${open.opened + open.failed} failed to connect: ${open.firstError}`,
      )
    const perConn = open.opened > 0 ? (after - before) / open.opened : 0
    ctx.progress(
      `connections ${fmt(open.opened)} (${transport}): ${(perConn / 1024).toFixed(1)} KiB each, ${fmt(open.rate)} connects/s`,
    )
    const metrics: CaseResult['metrics'] = {
      kibPerConnection: Math.round((perConn / 1024) * 10) / 10,
      connectsPerSec: Math.round(open.rate),
      serverMiB: Math.round(after / 1048576),
      connections: open.opened,
    }
    const { idleMs } = ctx.sizes.connections
    if (idleMs > 0) {
      ctx.progress(`connections ${fmt(open.opened)} (${transport}): idle for ${idleMs / 1000} s`)
      await settle(idleMs)
      const later = memoryBytes(runtimePids(ctx))
      metrics.mibAfterIdle = Math.round(later / 1048576)
      metrics.kibPerConnectionAfterIdle =
        open.opened > 0 ? Math.round(((later - before) / open.opened / 1024) * 10) / 10 : null
    }
    const st = await ctx.pool.stats()
    if (st.unexpectedCloses > 0) notes.push(`${st.unexpectedCloses} were closed by the server`)
    return { scenario: 'connections', case: label, target: ctx.target.name, metrics, cpu, notes }
  } catch (err) {
    return failed('connections', label, ctx.target.name, err)
  } finally {
    await ctx.pool.each('close')
    await settle(1000)
  }
}
