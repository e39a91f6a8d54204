import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ROOT } from '../targets/util.ts'

/** One target's run of the fuzz suite. */
export interface FuzzRun {
  /** Inputs tried per batch (publish, subscribe, admin, websocket, raw-http). */
  inputs: Record<string, number>
  total: number
  seconds: number
  seed: number
  /** Batches whose every input was answered as the contract says. */
  passed: string[]
  failed: string[]
  at: string
  /** What a batch counted without failing (answers that are the platform's, not ours). */
  notes: Record<string, number>
  /** The commit the gateway was built from (`+changes`: with uncommitted edits). */
  tree: string
}

/** The commit of the working tree the suite runs in, for the record. */
export function treeName(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== ''
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+changes' : ''}`
  } catch {
    return 'unknown'
  }
}

const JSON_FILE = resolve(ROOT, 'test-results/fuzz-summary.json')
const MD_FILE = resolve(ROOT, 'test-results/fuzz-summary.md')

/**
 * Records one target's run in test-results/fuzz-summary.{json,md}, keeping the other targets'
 * last runs (targets are often run one at a time).
 */
export function recordFuzzRun(target: string, run: FuzzRun): void {
  mkdirSync(resolve(ROOT, 'test-results'), { recursive: true })
  const all: Record<string, FuzzRun> = existsSync(JSON_FILE)
    ? (JSON.parse(readFileSync(JSON_FILE, 'utf8')) as { targets: Record<string, FuzzRun> }).targets
    : {}
  all[target] = run
  writeFileSync(JSON_FILE, `${JSON.stringify({ targets: all }, null, 2)}\n`)
  const batches = [...new Set(Object.values(all).flatMap((r) => Object.keys(r.inputs)))]
  let md = '# Fuzz suite: hostile inputs tried per target\n\n'
  md +=
    'Written by `e2e/src/fuzz/hostile.test.ts` (fast-check); each target keeps its last run.\n\n'
  md += `| target | ${batches.join(' | ')} | total | seconds | seed | failed batches | run at | tree |\n`
  md += `| --- | ${batches.map(() => '---:').join(' | ')} | ---: | ---: | ---: | --- | --- | --- |\n`
  for (const [name, r] of Object.entries(all).sort()) {
    const cells = batches.map((b) => String(r.inputs[b] ?? 0))
    md += `| ${name} | ${cells.join(' | ')} | ${r.total} | ${r.seconds} | ${r.seed} | ${r.failed.join(', ') || 'none'} | ${r.at} | ${r.tree} |\n`
  }
  for (const [name, r] of Object.entries(all).sort()) {
    for (const [what, n] of Object.entries(r.notes ?? {})) md += `\n- ${name}: ${what}: ${n}`
  }
  writeFileSync(MD_FILE, `${md}\n`)
}
