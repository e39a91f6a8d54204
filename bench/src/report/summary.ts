import type { CaseResult, ScenarioFile, TargetDescription } from '../types.ts'
import {
  METRICS,
  SCENARIO_ORDER,
  SCENARIO_TITLES,
  formatValue,
  groupCases,
  keyMetricOf,
} from './metrics.ts'

const REFERENCES = ['baseline', 'nchan']

function ratio(v: number | null | undefined, ref: number | null | undefined): string {
  if (v == null || ref == null || ref === 0 || Number.isNaN(v) || Number.isNaN(ref)) return '—'
  return `${(v / ref).toFixed(2)}×`
}

/** Cases in first-seen order, each with its results by target. */
function casesOf(results: CaseResult[]) {
  return groupCases(results).map((c) => ({
    ...c,
    byTarget: new Map(c.rs.map((r) => [r.target, r])),
  }))
}

/** The Markdown summary of one run: conditions, the ratios, then every scenario in full. */
export function renderSummary(files: ScenarioFile[], chartFile: string): string {
  const first = files[0]
  if (!first) return '# Benchmark results\n\nNo results.\n'
  const targets: TargetDescription[] = []
  for (const f of files)
    for (const t of f.targets) if (!targets.some((x) => x.name === t.name)) targets.push(t)
  const results = files
    .sort((a, b) => SCENARIO_ORDER.indexOf(a.scenario) - SCENARIO_ORDER.indexOf(b.scenario))
    .flatMap((f) => f.results)
  const m = first.machine
  const loads = files.find((f) => f.machine.loadAvgAfter)?.machine.loadAvgAfter ?? {}
  const after =
    Object.entries(loads)
      .map(([t, v]) => `${t} ${v.toFixed(2)}`)
      .join(', ') || 'not recorded'
  const lines: string[] = [
    `# Benchmark results: run ${first.runId} (${first.mode})`,
    '',
    `Written by \`make bench${first.mode === 'full' ? '-full' : ''}\` (bench/). How to run and read it: docs/benchmarks.md.`,
    '',
    '## Conditions',
    '',
    `- Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, ${m.os}, Node ${m.node}.`,
    `- Load average (1 min) before the run: ${m.loadAvgStart.toFixed(2)}; after each target: ${after}. While it runs, the run's own processes (target and load generator) add about 2 to 3.`,
    `- The load generator (${'raw-socket subscribers and publishers in several processes'}) and the target share these ${m.cpus} cores: each table gives both CPU figures, in % of one core.`,
    '- Everything runs on loopback. One process holds at most 20,000 open files.',
    '',
    '| target | what ran |',
    '| --- | --- |',
    ...targets.map((t) => `| ${t.label} (\`${t.name}\`) | ${t.detail} |`),
    '',
    `Raw figures: ${files.map((f) => `\`${f.runId}-${f.scenario}.json\``).join(', ')}.`,
    '',
    `![key figures](${chartFile})`,
    '',
    '## Side by side',
    '',
    'The key figure of each case; for each gateway target, its ratio to the plain `node:http` baseline and to Nchan (value ÷ reference: above 1 is better for rates, below 1 is better for times and memory).',
    '',
  ]
  const ranAnything = (t: string) => results.some((r) => r.target === t)
  const gateways = targets.filter((t) => !REFERENCES.includes(t.name))
  const refs = targets.filter((t) => REFERENCES.includes(t.name))
  lines.push(
    `| case | figure | ${[...refs, ...gateways].map((t) => t.name).join(' | ')} |`,
    `| --- | --- | ${[...refs, ...gateways].map(() => '---:').join(' | ')} |`,
  )
  for (const c of casesOf(results)) {
    const key = keyMetricOf(c.scenario, c.label)
    const val = (t: string) => c.byTarget.get(t)?.metrics[key]
    /** An unmeasured cell says why (the first note, short), e.g. "no answer within 2 s". */
    const why = (t: string) => {
      const r = c.byTarget.get(t)
      if (!r) return ranAnything(t) ? '·' : 'not run'
      const note = (r.notes[0] ?? '').replace(/^not measured: /, '')
      return note ? `— (${note.length > 48 ? `${note.slice(0, 47)}…` : note})` : '—'
    }
    const cells = [
      ...refs.map((t) => (val(t.name) == null ? why(t.name) : formatValue(val(t.name)))),
      ...gateways.map((t) => {
        const v = val(t.name)
        if (v == null) return why(t.name)
        return `${formatValue(v)} (${ratio(v, val('baseline'))} / ${ratio(v, val('nchan'))})`
      }),
    ]
    const info = METRICS[key]
    lines.push(
      `| ${c.scenario}: ${c.label} | ${info?.label ?? key} (${info?.better ?? ''} is better) | ${cells.join(' | ')} |`,
    )
  }
  lines.push(
    '',
    'Gateway cells: value (÷ baseline / ÷ Nchan). `·`: the target ran this scenario at other sizes (its own row).',
    '',
  )
  for (const scenario of SCENARIO_ORDER) {
    const rs = results.filter((r) => r.scenario === scenario)
    if (rs.length === 0) continue
    lines.push(`## ${SCENARIO_TITLES[scenario] ?? scenario}`, '')
    const keys = [...new Set(rs.flatMap((r) => Object.keys(r.metrics)))]
    lines.push(
      `| case | target | ${keys.map((k) => METRICS[k]?.label ?? k).join(' | ')} | CPU target % | CPU load gen % | notes |`,
      `| --- | --- | ${keys.map(() => '---:').join(' | ')} | ---: | ---: | --- |`,
    )
    for (const r of rs) {
      const cpu =
        r.cpu.server === 0 && r.cpu.loadgen === 0 ? ['—', '—'] : [r.cpu.server, r.cpu.loadgen]
      lines.push(
        `| ${r.case} | ${r.target} | ${keys.map((k) => formatValue(r.metrics[k])).join(' | ')} | ${cpu.join(' | ')} | ${r.notes.join('; ').replaceAll('|', '\\|')} |`,
      )
    }
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}
