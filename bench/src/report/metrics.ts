import type { CaseResult } from '../types.ts'

/** What each figure means: its label, unit, and which way is better. */
export interface MetricInfo {
  label: string
  better: 'higher' | 'lower' | 'none'
}

export const METRICS: Record<string, MetricInfo> = {
  deliveriesPerSec: { label: 'deliveries/s', better: 'higher' },
  publishesPerSec: { label: 'publishes/s', better: 'higher' },
  eventsPerBurst: { label: 'events per burst', better: 'none' },
  subscribers: { label: 'subscribers', better: 'none' },
  topics: { label: 'topics', better: 'none' },
  p50Ms: { label: 'p50 ms', better: 'lower' },
  p99Ms: { label: 'p99 ms', better: 'lower' },
  p999Ms: { label: 'p99.9 ms', better: 'lower' },
  maxMs: { label: 'max ms', better: 'lower' },
  samples: { label: 'samples', better: 'none' },
  publishes: { label: 'publishes', better: 'none' },
  requestsPerSec: { label: 'requests/s', better: 'higher' },
  replyP50Ms: { label: 'reply p50 ms', better: 'lower' },
  replyP99Ms: { label: 'reply p99 ms', better: 'lower' },
  answerMedianMs: { label: 'answer after (median ms)', better: 'lower' },
  answered: { label: 'answered', better: 'none' },
  tries: { label: 'tries', better: 'none' },
  kibPerConnection: { label: 'KiB per connection', better: 'lower' },
  connectsPerSec: { label: 'connects/s', better: 'higher' },
  serverMiB: { label: 'server MiB', better: 'none' },
  connections: { label: 'connections', better: 'none' },
  mibPerSec: { label: 'MiB/s', better: 'higher' },
  cpuUsPerDrop: { label: 'server CPU µs per drop', better: 'lower' },
  cpuUsPerPublish: { label: 'server CPU µs per publish', better: 'lower' },
  cpuUsPerDelivery: { label: 'server CPU µs per delivery', better: 'lower' },
  cpuUsPerRequest: { label: 'server CPU µs per request', better: 'lower' },
  mibAfterIdle: { label: 'server MiB after idling', better: 'none' },
  kibPerConnectionAfterIdle: { label: 'KiB per connection after idling', better: 'lower' },
}

/** The one figure per scenario that the ratios and the chart use. */
export const KEY_METRIC: Record<string, string> = {
  fanout: 'deliveriesPerSec',
  'many-topics': 'deliveriesPerSec',
  latency: 'p99Ms',
  drop: 'requestsPerSec',
  connections: 'kibPerConnection',
  publish: 'publishesPerSec',
  pipelined: 'publishesPerSec',
}

/** The drop path's second case is judged by its answer time, not by throughput. */
export function keyMetricOf(scenario: string, caseLabel: string): string {
  if (scenario === 'drop' && caseLabel.startsWith('declared')) return 'answerMedianMs'
  return KEY_METRIC[scenario] ?? ''
}

export const SCENARIO_ORDER = [
  'fanout',
  'many-topics',
  'latency',
  'drop',
  'pipelined',
  'connections',
  'publish',
]

export const SCENARIO_TITLES: Record<string, string> = {
  fanout: 'Fan-out: one topic, N subscribers, publishing at saturation',
  'many-topics': 'Many topics: one subscriber each, publishes spread over them',
  latency: 'Latency: publish → receive at a fixed rate',
  drop: 'Drop path: publishes to topics without subscribers',
  connections: 'Idle connections: memory per connection and connect rate',
  publish: 'Publish API: throughput by body size (one subscriber)',
  pipelined: 'Pipelined publishes: several requests in flight on one connection',
}

export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—'
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US')
  if (Number.isInteger(v)) return String(v)
  return v.toFixed(Math.abs(v) < 10 ? 2 : 1)
}

/** Results grouped by case (scenario + label), in first-seen order. */
export function groupCases(
  results: CaseResult[],
): Array<{ scenario: string; label: string; rs: CaseResult[] }> {
  const out: Array<{ scenario: string; label: string; rs: CaseResult[] }> = []
  for (const r of results) {
    let c = out.find((x) => x.scenario === r.scenario && x.label === r.case)
    if (!c) {
      c = { scenario: r.scenario, label: r.case, rs: [] }
      out.push(c)
    }
    c.rs.push(r)
  }
  return out
}
