import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { ScenarioFile } from '../types.ts'
import { renderChart } from './chart.ts'
import { renderSummary } from './summary.ts'

const FILE = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-([a-z-]+)\.json$/

/** A run id: the start time, sortable, usable in a file name (e.g. 2026-05-01T12-30-00). */
export function newRunId(d = new Date()): string {
  return d.toISOString().slice(0, 19).replaceAll(':', '-')
}

export function writeScenarioFile(dir: string, f: ScenarioFile): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, `${f.runId}-${f.scenario}.json`)
  writeFileSync(path, `${JSON.stringify(f, null, 2)}\n`)
  return path
}

/** Every run id that has scenario files in `dir`, oldest first. */
export function listRuns(dir: string): string[] {
  if (!existsSync(dir)) return []
  const ids = new Set<string>()
  for (const name of readdirSync(dir)) {
    const m = FILE.exec(name)
    if (m?.[1]) ids.add(m[1])
  }
  return [...ids].sort()
}

export function loadRun(dir: string, runId: string): ScenarioFile[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${runId}-`) && FILE.test(n))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as ScenarioFile)
}

/**
 * Writes `<runId>-summary.md` and `<runId>-chart.svg`, and copies them to `latest.md` and
 * `latest.svg` (the committed summary). Returns the summary's path.
 */
export function writeSummary(dir: string, runId: string): string {
  const files = loadRun(dir, runId)
  const chart = `${runId}-chart.svg`
  const title = `SSE gateway benchmarks — run ${runId} (${files[0]?.mode ?? '?'})`
  writeFileSync(
    join(dir, chart),
    renderChart(
      files.flatMap((f) => f.results),
      title,
    ),
  )
  const md = join(dir, `${runId}-summary.md`)
  writeFileSync(md, renderSummary(files, chart))
  writeFileSync(join(dir, 'latest.md'), renderSummary(files, 'latest.svg'))
  copyFileSync(join(dir, chart), join(dir, 'latest.svg'))
  return md
}
