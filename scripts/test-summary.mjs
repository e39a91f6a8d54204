#!/usr/bin/env node
// Turns vitest's JSON report (and the not-run notes suites leave) into test-results/summary.json
// and summary.md, compares with the previous summary, and prints the closing line
// `N passed, N failed, N skipped` that CI reads.
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const dir = 'test-results'
const raw = join(dir, 'raw', 'vitest.json')
if (!existsSync(raw)) {
  console.log('0 passed, 1 failed')
  console.error(`no ${raw}: vitest did not run`)
  process.exit(1)
}
const report = JSON.parse(readFileSync(raw, 'utf8'))
const root = process.cwd()
const files = report.testResults.map((f) => {
  const tests = f.assertionResults.map((t) => ({
    name: [...t.ancestorTitles, t.title].join(' › '),
    status: t.status === 'pending' || t.status === 'todo' ? 'skipped' : t.status,
    ms: Math.round(t.duration ?? 0),
  }))
  const count = (s) => tests.filter((t) => t.status === s).length
  return {
    file: relative(root, f.name),
    passed: count('passed'),
    failed: count('failed') + (f.status === 'failed' && tests.length === 0 ? 1 : 0),
    skipped: count('skipped'),
    ms: Math.round((f.endTime ?? 0) - (f.startTime ?? 0)),
    message:
      f.status === 'failed' && tests.length === 0 ? String(f.message).slice(0, 500) : undefined,
    tests,
  }
})
const notRun = []
const rawDir = join(dir, 'raw')
for (const name of readdirSync(rawDir)) {
  if (name.startsWith('not-run-') && name.endsWith('.json')) {
    notRun.push(JSON.parse(readFileSync(join(rawDir, name), 'utf8')))
  }
}
const extra = []
for (const name of readdirSync(rawDir)) {
  if (name.startsWith('check-') && name.endsWith('.json'))
    extra.push(JSON.parse(readFileSync(join(rawDir, name), 'utf8')))
}
// Vitest can fail a run on an error outside any test (an unhandled rejection): its JSON report
// still says every test passed, so its exit status is counted as one failure of its own.
const vitestExit = Number(process.env.VITEST_EXIT ?? 0)
if (vitestExit !== 0 && !files.some((f) => f.failed > 0)) {
  extra.push({
    name: `vitest exited ${vitestExit}: an error outside the tests (see the log)`,
    failed: 1,
  })
}
const sum = (k) => files.reduce((n, f) => n + f[k], 0) + extra.reduce((n, e) => n + (e[k] ?? 0), 0)
const summary = {
  date: new Date().toISOString(),
  passed: sum('passed'),
  failed: sum('failed'),
  skipped: sum('skipped'),
  notRun,
  checks: extra,
  files,
}

const prevPath = join(dir, 'summary.json')
let diff = []
if (existsSync(prevPath)) {
  const prev = JSON.parse(readFileSync(prevPath, 'utf8'))
  renameSync(prevPath, join(rawDir, 'previous-summary.json'))
  const before = new Map(
    prev.files.flatMap((f) => f.tests.map((t) => [`${f.file} › ${t.name}`, t.status])),
  )
  for (const f of files) {
    for (const t of f.tests) {
      const key = `${f.file} › ${t.name}`
      const was = before.get(key)
      if (was !== t.status) diff.push(`${key}: ${was ?? 'new'} → ${t.status}`)
      before.delete(key)
    }
  }
  for (const [key] of before) diff.push(`${key}: removed`)
  diff = diff.slice(0, 200)
}
summary.changes = diff
writeFileSync(prevPath, `${JSON.stringify(summary, null, 2)}\n`)

let md = `# Test results\n\nRun ${summary.date}: **${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped**.\n\n`
md += '| file | passed | failed | skipped | time |\n| --- | ---: | ---: | ---: | ---: |\n'
for (const f of files)
  md += `| ${f.file} | ${f.passed} | ${f.failed} | ${f.skipped} | ${(f.ms / 1000).toFixed(1)} s |\n`
for (const e of extra)
  md += `| ${e.name} | ${e.passed ?? 0} | ${e.failed ?? 0} | ${e.skipped ?? 0} | ${((e.ms ?? 0) / 1000).toFixed(1)} s |\n`
if (notRun.length) {
  md += '\n## Not run\n\n'
  for (const n of notRun) md += `- **${n.target}**: ${n.reason}\n`
}
const failed = files.flatMap((f) =>
  f.tests.filter((t) => t.status === 'failed').map((t) => `${f.file} › ${t.name}`),
)
if (failed.length) md += `\n## Failed\n\n${failed.map((f) => `- ${f}`).join('\n')}\n`
md += `\n## Changes since the previous run\n\n${diff.length ? diff.map((d) => `- ${d}`).join('\n') : 'none'}\n`
writeFileSync(join(dir, 'summary.md'), md)
for (const n of notRun) console.log(`not run: ${n.target}: ${n.reason}`)
if (diff.length) console.log(`changes since the previous run:\n  ${diff.slice(0, 20).join('\n  ')}`)
console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`)
process.exit(summary.failed > 0 ? 1 : 0)
