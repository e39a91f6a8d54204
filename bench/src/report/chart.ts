import type { CaseResult } from '../types.ts'
import { METRICS, SCENARIO_ORDER, formatValue, groupCases, keyMetricOf } from './metrics.ts'

const COLORS: Record<string, string> = {
  baseline: '#9ca3af',
  nchan: '#f59e0b',
  node: '#2563eb',
  'node-cluster': '#0d9488',
  'node-w2': '#60a5fa',
  workerd: '#7c3aed',
}
const WIDTH = 920
const LABEL_W = 130
const BAR_H = 16
const GAP = 4

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

/**
 * One panel per case: the key figure of every target as a horizontal bar (scaled to the
 * largest in the panel), with its value. Hand-written SVG: no chart library, no fonts to load.
 */
export function renderChart(results: CaseResult[], title: string): string {
  const ordered = [...results].sort(
    (a, b) => SCENARIO_ORDER.indexOf(a.scenario) - SCENARIO_ORDER.indexOf(b.scenario),
  )
  const cases = groupCases(ordered)
  const parts: string[] = []
  let y = 40
  for (const c of cases) {
    const key = keyMetricOf(c.scenario, c.label)
    const info = METRICS[key]
    const vals = c.rs.map((r) => r.metrics[key] ?? null)
    const max = Math.max(...vals.map((v) => v ?? 0), 1e-9)
    parts.push(
      `<text x="10" y="${y}" font-weight="bold">${esc(`${c.scenario}: ${c.label}`)} — ${esc(info?.label ?? key)} (${info?.better ?? ''} is better)</text>`,
    )
    y += 8
    c.rs.forEach((r, i) => {
      const v = vals[i]
      const w = v == null ? 0 : Math.max(1, ((WIDTH - LABEL_W - 120) * v) / max)
      const top = y + i * (BAR_H + GAP)
      parts.push(
        `<text x="${LABEL_W - 6}" y="${top + BAR_H - 4}" text-anchor="end">${esc(r.target)}</text>`,
        `<rect x="${LABEL_W}" y="${top}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[r.target] ?? '#64748b'}"/>`,
        `<text x="${LABEL_W + w + 6}" y="${top + BAR_H - 4}">${esc(v == null ? whyNot(r) : formatValue(v))}</text>`,
      )
    })
    y += c.rs.length * (BAR_H + GAP) + 26
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>
${parts.join('\n')}
</svg>
`
}

/** What an unmeasured bar says instead of a value: its first note, short. */
function whyNot(r: CaseResult): string {
  const note = (r.notes[0] ?? 'not measured').replace(/^not measured: /, '')
  return note.length > 80 ? `${note.slice(0, 79)}…` : note
}
