import { memoryBytes } from '../proc.ts'
import type { CaseResult } from '../types.ts'
import { type Scenario, openSubscribers, withCpu, fmt } from './context.ts'
import { failed } from './fanout.ts'

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One load process holds at most this many sockets (open-file limit 20,000, less a margin). */
const PER_LOAD_PROCESS = 16_000

/**
 * Idle SSE connections: the target's memory per connection (the growth of its processes'
 * proportional set size, divided by the connections) and how fast they connect. The
 * connections share 100 topics, so the figure is the connection's cost more than the topic's.
 */
export const connections: Scenario = {
  name: 'connections',
  title: 'Idle connections: memory per connection and connect rate',
  async run(ctx) {
    const out: CaseResult[] = []
    const capacity = ctx.target.connectionsPerProcess * ctx.target.subscribeAt.length
    for (const n of ctx.sizes.connections.counts) {
      const label = `${fmt(n)} idle SSE connections`
      if (n > capacity) {
        out.push(
          failed(
            'connections',
            label,
            ctx.target.name,
            new Error(
              `needs more than ${ctx.target.subscribeAt.length} process(es) × ${fmt(ctx.target.connectionsPerProcess)} connections (a process here holds at most 20,000 open files)`,
            ),
          ),
        )
        continue
      }
      const workers = Math.max(2, Math.ceil(n / PER_LOAD_PROCESS))
      if (workers > ctx.pool.subscribers.length) {
        out.push(
          failed(
            'connections',
            label,
            ctx.target.name,
            new Error(`needs ${workers} load processes`),
          ),
        )
        continue
      }
      try {
        await settle(1000)
        const before = memoryBytes(ctx.target.pids())
        ctx.progress(`connections ${fmt(n)}: connecting`)
        const topics = { prefix: 'idle', from: 0, to: 100 }
        const { value: open, cpu } = await withCpu(ctx, () =>
          openSubscribers(ctx, topics, Math.ceil(n / 100), ctx.target.subscribeAt, workers),
        )
        await settle(2000)
        const after = memoryBytes(ctx.target.pids())
        const notes: string[] = []
        if (open.failed > 0)
          notes.push(
            `${open.failed} of ${open.opened + open.failed} failed to connect: ${open.firstError}`,
          )
        const st = await ctx.pool.stats()
        if (st.unexpectedCloses > 0) notes.push(`${st.unexpectedCloses} were closed by the server`)
        const perConn = open.opened > 0 ? (after - before) / open.opened : 0
        ctx.progress(
          `connections ${fmt(open.opened)}: ${(perConn / 1024).toFixed(1)} KiB each, ${fmt(open.rate)} connects/s`,
        )
        out.push({
          scenario: 'connections',
          case: label,
          target: ctx.target.name,
          metrics: {
            kibPerConnection: Math.round((perConn / 1024) * 10) / 10,
            connectsPerSec: Math.round(open.rate),
            serverMiB: Math.round(after / 1048576),
            connections: open.opened,
          },
          cpu,
          notes,
        })
      } catch (err) {
        out.push(failed('connections', label, ctx.target.name, err))
      } finally {
        await ctx.pool.each('close')
        await settle(1000)
      }
    }
    return out
  },
}
