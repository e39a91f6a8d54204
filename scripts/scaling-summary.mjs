// The table of scripts/bench-scaling.sh: node scripts/scaling-summary.mjs <load cpus> N:runId…
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

const dir = resolve(import.meta.dirname, '..', 'benchmark-results')
const [loadCpus, ...pairs] = process.argv.slice(2)
const runs = pairs.map((p) => {
  const [n, id] = p.split(':')
  return { n: Number(n), id }
})
/** The key figure of each case, higher is better. */
const FIGURES = {
  fanout: 'deliveriesPerSec',
  drop: 'requestsPerSec',
  'many-topics': 'deliveriesPerSec',
}

const rows = []
for (const { n, id } of runs) {
  for (const [scenario, figure] of Object.entries(FIGURES)) {
    const file = resolve(dir, `${id}-${scenario}.json`)
    if (!existsSync(file)) continue
    const { results, machine } = JSON.parse(readFileSync(file, 'utf8'))
    for (const r of results) {
      const v = r.metrics?.[figure]
      if (typeof v !== 'number') continue
      rows.push({
        n,
        id,
        scenario,
        case: r.case,
        gateway: !r.target.startsWith('nchan'),
        v,
        machine,
      })
    }
  }
}
const fmt = (x) => Math.round(x).toLocaleString('en-US')
const one = (row) =>
  rows.find((r) => r.n === runs[0].n && r.case === row.case && r.gateway === row.gateway)
const lines = [
  `# Scaling: WORKERS=N against Nchan with N workers`,
  '',
  `Runs: ${runs.map((r) => `N=${r.n} \`${r.id}\``).join(', ')}. Each target pinned to cores 0..N-1`,
  `(BENCH_TARGET_CPUS), the load generator to ${loadCpus} (BENCH_LOAD_CPUS). Raw figures:`,
  "the runs' JSON files beside this one.",
  '',
  '| case | N | gateway | Nchan | gateway ÷ Nchan | gateway: share of linear | Nchan: share of linear |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
]
const cases = [...new Set(rows.map((r) => `${r.scenario}: ${r.case}`))]
for (const c of cases) {
  for (const { n } of runs) {
    const g = rows.find((r) => r.n === n && `${r.scenario}: ${r.case}` === c && r.gateway)
    const x = rows.find((r) => r.n === n && `${r.scenario}: ${r.case}` === c && !r.gateway)
    const lin = (row) => {
      const base = row && one(row)
      return row && base ? `${((row.v / (base.v * (n / runs[0].n))) * 100).toFixed(0)} %` : '—'
    }
    lines.push(
      `| ${c} | ${n} | ${g ? fmt(g.v) : '—'} | ${x ? fmt(x.v) : '—'} | ${g && x ? `${(g.v / x.v).toFixed(2)}×` : '—'} | ${lin(g)} | ${lin(x)} |`,
    )
  }
}
const out = resolve(dir, `scaling-${runs[0].id}.md`)
writeFileSync(out, `${lines.join('\n')}\n`)
process.stdout.write(`${lines.join('\n')}\n\n${out}\n`)
