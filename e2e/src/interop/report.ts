import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export type CellStatus = 'passed' | 'failed' | 'limit' | 'not-run'

/** One client × target × scenario. */
export interface InteropCell {
  client: string
  target: string
  scenario: string
  status: CellStatus
  ms: number
  /** Why it failed, why it was not run, the limit and its workaround, or a note. */
  detail?: string
  /** When the run that made this cell started (cells a run did not cover keep theirs). */
  date: string
}

export interface ClientInfo {
  name: string
  language: string
  transport: 'sse' | 'ws'
  library: string
  version: string
  max_event_bytes?: number
  /** The client's own notes (its client.json): how it uses the library, what to know. */
  notes?: string
  notRun?: string
}

export interface InteropReport {
  date: string
  clients: ClientInfo[]
  targets: Array<{ name: string; notRun?: string }>
  scenarios: Array<{ name: string; title: string }>
  totals: Record<'passed' | 'failed' | 'limit' | 'notRun', number>
  results: InteropCell[]
}

const key = (c: Pick<InteropCell, 'client' | 'target' | 'scenario'>) =>
  `${c.client} · ${c.target} · ${c.scenario}`

/**
 * Writes `dir/interop-matrix.{json,md}`. The cells of this run replace those of the report on
 * disk; the others (another target, a filtered run) stay with the date they ran, so running one
 * target at a time (`E2E_TARGETS=node`) keeps the whole matrix. Cells of clients, targets or
 * scenarios that no longer exist are dropped.
 */
export function writeInteropReport(
  dir: string,
  run: Omit<InteropReport, 'date' | 'totals'>,
  /** Every target name in report order (this run's and earlier runs' targets are sorted by it). */
  targetOrder: string[] = [],
): InteropReport {
  const jsonPath = join(dir, 'interop-matrix.json')
  let prev: InteropReport | undefined
  if (existsSync(jsonPath)) {
    try {
      prev = JSON.parse(readFileSync(jsonPath, 'utf8')) as InteropReport
    } catch {
      prev = undefined
    }
  }
  const clientNames = new Set(run.clients.map((c) => c.name))
  const scenarioNames = new Set(run.scenarios.map((s) => s.name))
  const ran = new Set(run.results.map(key))
  const kept = (prev?.results ?? []).filter(
    (c) => !ran.has(key(c)) && clientNames.has(c.client) && scenarioNames.has(c.scenario),
  )
  const targets = [...run.targets]
  for (const t of prev?.targets ?? [])
    if (!targets.some((x) => x.name === t.name) && kept.some((c) => c.target === t.name))
      targets.push(t)
  const rank = (name: string) => {
    const i = targetOrder.indexOf(name)
    return i === -1 ? targetOrder.length : i
  }
  targets.sort((a, b) => rank(a.name) - rank(b.name))
  const results = [...kept, ...run.results].sort(
    (a, b) => order(run, targets, a) - order(run, targets, b),
  )
  const count = (s: CellStatus) => results.filter((r) => r.status === s).length
  const report: InteropReport = {
    date: new Date().toISOString(),
    clients: run.clients,
    targets,
    scenarios: run.scenarios,
    totals: {
      passed: count('passed'),
      failed: count('failed'),
      limit: count('limit'),
      notRun: count('not-run'),
    },
    results,
  }
  mkdirSync(dir, { recursive: true })
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(join(dir, 'interop-matrix.md'), renderMarkdown(report))
  return report
}

function order(
  run: Omit<InteropReport, 'date' | 'totals'>,
  targets: InteropReport['targets'],
  c: InteropCell,
): number {
  const t = targets.findIndex((x) => x.name === c.target)
  const cl = run.clients.findIndex((x) => x.name === c.client)
  const s = run.scenarios.findIndex((x) => x.name === c.scenario)
  return (t * 1000 + cl) * 100 + s
}

const time = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`)
const oneLine = (s: string | undefined, max = 400) => {
  const t = String(s ?? '')
    .replace(/\s+/g, ' ')
    .trim()
  return t.length > max ? `${t.slice(0, max)}…` : t
}

function mark(c: InteropCell | undefined): string {
  if (!c) return ''
  if (c.status === 'passed') return c.detail ? '✓ (note)' : '✓'
  if (c.status === 'failed') return '✗ **fail**'
  if (c.status === 'limit') return 'limit'
  return '–'
}

/** The Markdown page: per target a client × scenario table, then failures, limits, not run. */
export function renderMarkdown(r: InteropReport): string {
  const t = r.totals
  let md = '# Client interop matrix\n\n'
  md += `Written ${r.date}: **${t.passed} passed, ${t.failed} failed, ${t.limit} limit, ${t.notRun} not run**.\n\n`
  md +=
    "Each cell starts a client the way its users would use it (its library's defaults, listening to "
  md +=
    'the named event types it is told about), subscribes it to topics of its own on a real gateway, '
  md +=
    'publishes through the HTTP API and compares what the client reported with what was published: '
  md += "data as the library hands it over, event type, and the publisher's part of the id (SSE, "
  md += 'without `?envelope=json`), or the whole frame (WebSocket). On a cluster the client is on '
  md += 'another node than the publisher. Made by `e2e/src/interop/interop.test.ts`; clients are '
  md += 'in `e2e/interop/clients/` (one `client.json` each) plus the browser drivers.\n\n'
  md +=
    '`✓` passed (`(note)`: with something to know, see Notes) · `✗` failed (see Failures) · `limit` the library refuses the size by default '
  md += '(see Limits for the workaround) · `–` not run (see Not run).\n\n'
  md += '## Clients\n\n| client | transport | library | version |\n| --- | --- | --- | --- |\n'
  for (const c of r.clients)
    md += `| ${c.name} | ${c.transport} | ${c.library} | ${c.version}${c.notRun ? ` (not run: ${c.notRun})` : ''} |\n`
  const clientNotes = r.clients.filter((c) => c.notes)
  if (clientNotes.length) {
    md += '\n'
    for (const c of clientNotes) md += `- **${c.name}**: ${oneLine(c.notes, 1000)}\n`
  }
  md += '\n## Scenarios\n\n'
  for (const s of r.scenarios) md += `- **${s.name}**: ${s.title}\n`
  const scen = r.scenarios.map((s) => s.name)
  for (const target of r.targets) {
    const cells = r.results.filter((c) => c.target === target.name)
    const dates = [...new Set(cells.map((c) => c.date))].sort()
    const latest = dates[dates.length - 1]
    md += `\n## ${target.name}\n\n`
    if (target.notRun) md += `Not run: ${target.notRun}\n\n`
    if (latest) md += `Run ${latest}.`
    if (dates.length > 1)
      md += ` Cells marked * are from an earlier run (${dates[0]}; the JSON has each date).`
    if (latest) md += '\n\n'
    md += `| client | ${scen.join(' | ')} |\n|---|${scen.map(() => '---').join('|')}|\n`
    for (const c of r.clients) {
      const row = scen.map((s) => {
        const cell = cells.find((x) => x.client === c.name && x.scenario === s)
        return `${mark(cell)}${cell && cell.date !== latest ? ' *' : ''}`
      })
      md += `| ${c.name} | ${row.join(' | ')} |\n`
    }
  }
  const section = (title: string, status: CellStatus) => {
    const list = r.results.filter((c) => c.status === status)
    if (!list.length) return ''
    let s = `\n## ${title}\n\n`
    for (const c of list) s += `- ${key(c)} (${time(c.ms)}): ${oneLine(c.detail)}\n`
    return s
  }
  md += section('Failures', 'failed')
  md += section('Limits', 'limit')
  const notRun = [
    ...new Set(r.results.filter((c) => c.status === 'not-run').map((c) => oneLine(c.detail))),
  ]
  if (notRun.length) md += `\n## Not run\n\n${notRun.map((d) => `- ${d}`).join('\n')}\n`
  // One line per note: the cells it applies to, as client · scenario (targets).
  const notes = new Map<string, Map<string, string[]>>()
  for (const c of r.results) {
    if (c.status !== 'passed' || !c.detail) continue
    const cells = notes.get(c.detail) ?? new Map<string, string[]>()
    const where = `${c.client} · ${c.scenario}`
    cells.set(where, [...(cells.get(where) ?? []), c.target])
    notes.set(c.detail, cells)
  }
  if (notes.size) {
    md += '\n## Notes\n\n'
    for (const [note, cells] of notes) {
      const list = [...cells].map(([where, targets]) => `${where} (${targets.join(', ')})`)
      md += `- ${oneLine(note)}: ${list.join('; ')}\n`
    }
  }
  return md
}
