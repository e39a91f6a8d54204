import { describe, expect, it } from 'vitest'
import type { ScenarioFile } from '../types.ts'
import { renderChart } from './chart.ts'
import { renderSummary } from './summary.ts'

const file: ScenarioFile = {
  runId: '2026-01-01T00-00-00',
  mode: 'quick',
  scenario: 'fanout',
  startedAt: '2026-01-01T00:00:00.000Z',
  machine: {
    cpus: 2,
    cpuModel: 'cpu',
    memGiB: 24,
    node: 'v20',
    os: 'linux x64',
    loadAvgStart: 0.5,
  },
  targets: [
    { name: 'baseline', label: 'plain', detail: 'd' },
    { name: 'nchan', label: 'Nchan', detail: 'd' },
    { name: 'node', label: 'Node', detail: 'd' },
    { name: 'workerd', label: 'workerd', detail: 'not run: no wrangler' },
  ],
  results: [
    {
      scenario: 'fanout',
      case: '1,000 subscribers',
      target: 'baseline',
      metrics: { deliveriesPerSec: 10_000 },
      cpu: { server: 50, loadgen: 40 },
      notes: [],
    },
    {
      scenario: 'fanout',
      case: '1,000 subscribers',
      target: 'nchan',
      metrics: { deliveriesPerSec: 40_000 },
      cpu: { server: 50, loadgen: 40 },
      notes: [],
    },
    {
      scenario: 'fanout',
      case: '1,000 subscribers',
      target: 'node',
      metrics: { deliveriesPerSec: 80_000 },
      cpu: { server: 90, loadgen: 60 },
      notes: [],
    },
  ],
}

describe('renderSummary', () => {
  it('puts the references side by side with each gateway target and its ratios', () => {
    const md = renderSummary([file], 'chart.svg')
    expect(md).toContain(
      '| fanout: 1,000 subscribers | deliveries/s (higher is better) | 10,000 | 40,000 | 80,000 (8.00× / 2.00×) | not run |',
    )
    expect(md).toContain('not run: no wrangler')
    expect(md).toContain('Load average (1 min) before the run: 0.50')
  })

  it('draws one bar per target in the chart', () => {
    const svg = renderChart(file.results, 'title')
    expect(svg.match(/<rect x="130"/g)).toHaveLength(3)
    expect(svg).toContain('80,000')
  })
})
