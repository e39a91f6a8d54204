import type { CaseResult } from '../types.ts'
import { METRICS, formatValue } from './metrics.ts'
import { listRuns, loadRun } from './files.ts'

/**
 * The change of every figure between two runs (default: the two latest), as a Markdown table:
 * old, new, and the change in %, marked better or worse by the figure's direction.
 */
export function compareRuns(dir: string, oldId?: string, newId?: string): string {
  const runs = listRuns(dir)
  const b = newId ?? runs.at(-1)
  const a = oldId ?? runs.at(runs.indexOf(b ?? '') - 1)
  if (!a || !b || a === b) return `Need two runs to compare; found: ${runs.join(', ') || 'none'}\n`
  const index = (id: string) => {
    const m = new Map<string, CaseResult>()
    for (const f of loadRun(dir, id))
      for (const r of f.results) m.set(`${r.scenario}|${r.case}|${r.target}`, r)
    return m
  }
  const before = index(a)
  const after = index(b)
  const lines = [
    `Comparing run ${a} (old) with ${b} (new)`,
    '',
    '| scenario | case | target | figure | old | new | change |',
    '| --- | --- | --- | --- | ---: | ---: | ---: |',
  ]
  for (const [k, r] of after) {
    const o = before.get(k)
    if (!o) continue
    for (const [metric, v] of Object.entries(r.metrics)) {
      const info = METRICS[metric]
      if (!info || info.better === 'none') continue
      const ov = o.metrics[metric]
      let change = '—'
      if (v != null && ov != null && ov !== 0) {
        const pct = ((v - ov) / ov) * 100
        const good = info.better === 'higher' ? pct > 0 : pct < 0
        change = `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%${Math.abs(pct) >= 5 ? (good ? ' better' : ' worse') : ''}`
      }
      lines.push(
        `| ${r.scenario} | ${r.case} | ${r.target} | ${info.label} | ${formatValue(ov)} | ${formatValue(v)} | ${change} |`,
      )
    }
  }
  return `${lines.join('\n')}\n`
}
