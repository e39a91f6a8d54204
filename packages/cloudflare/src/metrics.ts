import type { Stats } from '@sse-gateway/core'

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
]

/**
 * `GET /metrics` in Prometheus text format, from the registry's counters (the deployment's
 * totals: a Worker has no process of its own to describe). Counters reach the registry within
 * about a second of the events they count.
 */
export function renderMetrics(stats: Stats): string {
  let out = ''
  for (const [key, name, type, help] of SERIES) {
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${Number(stats[key])}\n`
  }
  return out
}
