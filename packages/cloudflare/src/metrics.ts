import type { RefusalReason, Stats } from '@sse-gateway/core'

const SERIES: Array<[keyof Stats, string, 'gauge' | 'counter', string]> = [
  ['connections', 'sse_gateway_connections', 'gauge', 'Live subscriber connections'],
  ['topics', 'sse_gateway_topics', 'gauge', 'Topics with at least one subscriber'],
  ['connectionsTotal', 'sse_gateway_connections_total', 'counter', 'Subscriber connections opened'],
  ['published', 'sse_gateway_published_total', 'counter', 'Publish requests accepted'],
  ['delivered', 'sse_gateway_delivered_total', 'counter', 'Events written to subscribers'],
  ['dropped', 'sse_gateway_dropped_total', 'counter', 'Topics dropped for want of a subscriber'],
  ['bytesSent', 'sse_gateway_bytes_sent_total', 'counter', 'Event bytes written to subscribers'],
  [
    'slowConsumerDisconnects',
    'sse_gateway_slow_consumer_disconnects_total',
    'counter',
    'Subscribers disconnected for not reading fast enough',
  ],
  ['replayed', 'sse_gateway_replayed_total', 'counter', 'Events replayed to resuming subscribers'],
  ['gaps', 'sse_gateway_gaps_total', 'counter', 'gateway.gap events sent to resuming subscribers'],
  ['broadcasts', 'sse_gateway_broadcasts_total', 'counter', 'Broadcasts (x-sse-topic: *) accepted'],
  [
    'directSends',
    'sse_gateway_direct_sends_total',
    'counter',
    'Direct sends written to their connection',
  ],
]

/**
 * `GET /metrics` in Prometheus text format, from the registry's counters (the deployment's
 * totals: a Worker has no process of its own to describe). Counters reach the registry within
 * about a second of the events they count.
 */
export function renderMetrics(stats: Stats, refused: Record<RefusalReason, number>): string {
  let out = ''
  for (const [key, name, type, help] of SERIES) {
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${Number(stats[key])}\n`
  }
  const name = 'sse_gateway_subscriptions_refused_total'
  out += `# HELP ${name} Subscriptions refused for a private topic\n# TYPE ${name} counter\n`
  for (const reason of ['unauthorized', 'forbidden'] as const) {
    out += `${name}{reason="${reason}"} ${refused[reason]}\n`
  }
  return out
}
