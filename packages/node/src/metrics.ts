import type { PublishObserver, RefusalReason } from '@sse-gateway/core'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Counters } from './connection.ts'

/**
 * Prometheus metrics of one node. Counters are read from the node's own tallies at scrape time,
 * so the fan-out path only bumps plain numbers.
 */
export function createMetrics(opts: {
  counters: Counters
  liveConnections: () => number
  topics: () => number
  /** The memory namespace's replay store, when there is one. */
  replay?: () => { bytes: number }
  /** Subscriptions refused for a private topic, by reason. */
  refusals?: Readonly<Record<RefusalReason, number>>
}): { registry: Registry; observer: PublishObserver; render: () => Promise<string> } {
  const { counters } = opts
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const fromTally = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(read())
      },
    })

  new Gauge({
    name: 'sse_gateway_connections',
    help: 'Live subscriber connections (SSE and WebSocket) on this node',
    registers: [registry],
    collect() {
      this.set(opts.liveConnections())
    },
  })
  new Gauge({
    name: 'sse_gateway_topics',
    help: 'Topics with at least one subscriber on this node',
    registers: [registry],
    collect() {
      this.set(opts.topics())
    },
  })
  fromTally(
    'sse_gateway_connections_total',
    'Subscriber connections opened',
    () => counters.connectionsTotal,
  )
  fromTally('sse_gateway_published_total', 'Publish requests accepted', () => counters.published)
  fromTally(
    'sse_gateway_delivered_total',
    'Events written to subscribers',
    () => counters.delivered,
  )
  fromTally(
    'sse_gateway_dropped_total',
    'Topics dropped for want of a subscriber',
    () => counters.dropped,
  )
  fromTally(
    'sse_gateway_bytes_sent_total',
    'Event bytes written to subscribers',
    () => counters.bytesSent,
  )
  fromTally(
    'sse_gateway_slow_consumer_disconnects_total',
    'Subscribers disconnected for not reading fast enough',
    () => counters.slowConsumerDisconnects,
  )
  fromTally(
    'sse_gateway_replayed_total',
    'Events written to resuming connections from the replay window',
    () => counters.replayed,
  )
  fromTally(
    'sse_gateway_gaps_total',
    'gateway.gap events sent: resumes that could not replay everything',
    () => counters.gaps,
  )
  fromTally(
    'sse_gateway_broadcasts_total',
    'Broadcasts (x-sse-topic: *) accepted from publishers, drops included',
    () => counters.broadcasts,
  )
  fromTally(
    'sse_gateway_direct_sends_total',
    'Direct sends (POST /admin/api/connections/{id}/events) written to their connection',
    () => counters.directSends,
  )
  const refusals = opts.refusals ?? { unauthorized: 0, forbidden: 0 }
  new Counter({
    name: 'sse_gateway_subscriptions_refused_total',
    help: 'Subscriptions refused for a private topic (401 unauthorized, 403 forbidden)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset()
      for (const reason of ['unauthorized', 'forbidden'] as const) {
        this.inc({ reason }, refusals[reason])
      }
    },
  })
  if (opts.replay) {
    const replay = opts.replay
    new Gauge({
      name: 'sse_gateway_replay_bytes',
      help: 'Bytes held in the replay windows of this node (memory namespace)',
      registers: [registry],
      collect() {
        this.set(replay().bytes)
      },
    })
  }
  const latency = new Histogram({
    name: 'sse_gateway_publish_duration_seconds',
    help: 'Time from a publish request to its events being written or forwarded',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  return {
    registry,
    observer: {
      published(info) {
        counters.published++
        if (info.live > 0) latency.observe(info.seconds)
      },
    },
    render: () => registry.metrics(),
  }
}
