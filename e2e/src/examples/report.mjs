// The examples matrix report: test-results/examples-matrix.json and .md, and the comparison of
// two runs. Plain JavaScript so that `node e2e/src/examples/compare.mjs` runs without a build.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const KIND_LABEL = {
  errors: 'publisher reports drop, 401, 400',
  reconnect: 'subscriber reconnects (Last-Event-ID), stops on 400',
  private: 'mint-token → subscriber of a private topic, 401 without',
}

/** A result's identity across runs. */
export function resultKey(r) {
  return r.kind === 'delivery'
    ? `${r.target} · ${r.publisher} → ${r.subscriber}`
    : `${r.target} · ${r.kind} · ${r.publisher ?? r.subscriber}`
}

function totals(results) {
  const count = (s) => results.filter((r) => r.status === s).length
  return { passed: count('passed'), failed: count('failed'), notRun: count('not-run') }
}

/**
 * What changed from `prev` to `cur`: status changes, new and gone cells, large time changes. A
 * target that appears or disappears as a whole is one line.
 */
export function compareReports(prev, cur) {
  const prevResults = prev?.results ?? []
  const targetsOf = (rs) => new Set(rs.map((r) => r.target))
  const [prevTargets, curTargets] = [targetsOf(prevResults), targetsOf(cur.results)]
  const changes = []
  for (const t of curTargets) {
    if (prevTargets.has(t)) continue
    const tt = totals(cur.results.filter((r) => r.target === t))
    changes.push(`${t}: new target, ${tt.passed} passed, ${tt.failed} failed, ${tt.notRun} not run`)
  }
  for (const t of prevTargets) if (!curTargets.has(t)) changes.push(`${t}: not in this run`)
  const before = new Map(prevResults.map((r) => [resultKey(r), r]))
  for (const r of cur.results) {
    if (!prevTargets.has(r.target)) continue
    const key = resultKey(r)
    const was = before.get(key)
    before.delete(key)
    if (!was) changes.push(`${key}: new, ${r.status}`)
    else if (was.status !== r.status) changes.push(`${key}: ${was.status} → ${r.status}`)
    else if (r.status === 'passed' && Math.abs(r.ms - was.ms) > Math.max(1000, was.ms)) {
      changes.push(`${key}: ${secs(was.ms)} → ${secs(r.ms)}`)
    }
  }
  for (const [key, r] of before)
    if (curTargets.has(r.target)) changes.push(`${key}: not in this run`)
  return changes
}

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`
const time = (ms) => (ms < 1000 ? `${ms} ms` : secs(ms))

function cell(r) {
  if (!r) return ''
  if (r.status === 'passed') return `✓ ${time(r.ms)}`
  if (r.status === 'failed') return `✗ **fail** ${time(r.ms)}`
  return '– not run'
}

/** The Markdown page: one publisher × subscriber table per target, then checks and changes. */
export function renderMarkdown(report) {
  const t = report.totals
  let md = `# Examples matrix${report.partial ? ' (partial run)' : ''}\n\n`
  md += `Run ${report.date}: **${t.passed} passed, ${t.failed} failed, ${t.notRun} not run**.\n\n`
  md +=
    'Each delivery cell starts the subscriber (column) on two topics of a real gateway, runs the '
  md +=
    'publisher (row) three times (an event type, a multi-line UTF-8 body from stdin, a JSON body '
  md +=
    'to both topics) and checks every printed line: ids, event types, data and order per topic. '
  md += 'On a cluster the publisher talks to one node and the subscriber to another.\n'
  md += 'Made by `e2e/src/examples/matrix.test.ts`; `node e2e/src/examples/compare.mjs` shows what '
  md += 'changed since the previous run.\n'
  const langs = report.languages
  for (const target of report.targets) {
    md += `\n## ${target.name}\n\n`
    if (target.notRun) md += `Not run: ${target.notRun}\n\n`
    const find = (kind, pub, sub) =>
      report.results.find(
        (r) =>
          r.target === target.name &&
          r.kind === kind &&
          r.publisher === pub &&
          r.subscriber === sub,
      )
    md += `| publisher ↓ · subscriber → | ${langs.join(' | ')} |\n|---|${langs.map(() => '---').join('|')}|\n`
    for (const pub of langs) {
      md += `| **${pub}** | ${langs.map((sub) => cell(find('delivery', pub, sub))).join(' | ')} |\n`
    }
    md += `| ${KIND_LABEL.errors} | ${langs.map((l) => cell(find('errors', l, null))).join(' | ')} |\n`
    md += `| ${KIND_LABEL.reconnect} | ${langs.map((l) => cell(find('reconnect', null, l))).join(' | ')} |\n`
    md += `| ${KIND_LABEL.private} | ${langs.map((l) => cell(find('private', null, l))).join(' | ')} |\n`
  }
  const failed = report.results.filter((r) => r.status === 'failed')
  if (failed.length) {
    md += '\n## Failures\n\n'
    for (const r of failed) md += `- ${resultKey(r)}: ${oneLine(r.detail)}\n`
  }
  const notRun = [
    ...new Set(report.results.filter((r) => r.status === 'not-run').map((r) => r.detail)),
  ]
  if (notRun.length) md += `\n## Not run\n\n${notRun.map((d) => `- ${d}`).join('\n')}\n`
  md += `\n## Changes since the previous run\n\n`
  md += report.changes.length ? `${report.changes.map((c) => `- ${c}`).join('\n')}\n` : 'none\n'
  return md
}

const oneLine = (s) =>
  String(s ?? '')
    .replace(/\s+/g, ' ')
    .slice(0, 300)

/**
 * Writes `dir/examples-matrix.{json,md}`. The report it replaces is kept as
 * `dir/raw/examples-matrix.previous.json`, and the changes against it go into both files. A
 * partial run (a test filter, or E2E_TARGETS) writes `dir/raw/examples-matrix.partial.{json,md}`
 * instead, compared with the full report, so the committed report always covers every target.
 */
export function writeMatrixReport(dir, { languages, targets, results }, { partial = false } = {}) {
  const jsonPath = join(dir, 'examples-matrix.json')
  mkdirSync(join(dir, 'raw'), { recursive: true })
  let prev
  if (existsSync(jsonPath)) {
    try {
      prev = JSON.parse(readFileSync(jsonPath, 'utf8'))
    } catch {
      prev = undefined
    }
    if (!partial) copyFileSync(jsonPath, join(dir, 'raw', 'examples-matrix.previous.json'))
  }
  const report = {
    date: new Date().toISOString(),
    languages,
    targets,
    totals: totals(results),
    results,
  }
  if (partial) report.partial = true
  report.changes = compareReports(prev, report)
  const out = partial ? join(dir, 'raw', 'examples-matrix.partial') : join(dir, 'examples-matrix')
  writeFileSync(`${out}.json`, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(`${out}.md`, renderMarkdown(report))
  return report
}
