/**
 * A load-generator process: holds subscriber sockets and runs publish loops on the coordinator's
 * orders (IPC). Several of these share the work so the generator is not what gets measured.
 */
import { type PublishSpec, runPublishers, unansweredBody } from './publishers.ts'
import { type OpenSpec, SubscriberSet } from './subscribers.ts'
import type { ApiKind, Endpoint } from './types.ts'

export interface WorkerStats {
  subscribers: number
  events: number
  lastEventUs: number
  minPerSubscriber: number
  unexpectedCloses: number
  hist: ReturnType<SubscriberSet['hist']['toJSON']>
  /** CPU seconds used by this process so far. */
  cpu: number
}

const subs = new SubscriberSet()

type Handler = (args: never) => unknown
const handlers: Record<string, Handler> = {
  open: (spec: OpenSpec) => subs.open(spec),
  reset: () => subs.reset(),
  latency: (on: boolean) => {
    subs.latency = on
  },
  stats: (): WorkerStats => {
    const u = process.cpuUsage()
    return {
      subscribers: subs.size,
      events: subs.events,
      lastEventUs: subs.lastEventUs,
      minPerSubscriber: subs.minPerSubscriber,
      unexpectedCloses: subs.unexpectedCloses,
      hist: subs.hist.toJSON(),
      cpu: (u.user + u.system) / 1e6,
    }
  },
  publish: (spec: PublishSpec) => runPublishers(spec),
  unanswered: (a: { kind: ApiKind; ep: Endpoint; apiKey: string; topic: string; ms: number }) =>
    unansweredBody(a.kind, a.ep, a.apiKey, a.topic, a.ms),
  close: () => subs.closeAll(),
}

process.on('message', async (msg: { id: number; cmd: string; args: unknown }) => {
  const h = handlers[msg.cmd]
  try {
    if (!h) throw new Error(`unknown command ${msg.cmd}`)
    const result = await h(msg.args as never)
    process.send?.({ id: msg.id, result })
  } catch (err) {
    process.send?.({ id: msg.id, error: (err as Error).stack ?? String(err) })
  }
})
process.on('disconnect', () => process.exit(0))
