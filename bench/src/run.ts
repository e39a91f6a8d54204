import { mkdirSync } from 'node:fs'
import { cpus, freemem, totalmem } from 'node:os'
import { join } from 'node:path'
import { LoadPool } from './pool.ts'
import { loadAverage } from './proc.ts'
import { newRunId, writeScenarioFile, writeSummary } from './report/files.ts'
import { connections } from './scenarios/connections.ts'
import type { BenchContext, Scenario } from './scenarios/context.ts'
import { drop } from './scenarios/drop.ts'
import { failed, fanout } from './scenarios/fanout.ts'
import { latency } from './scenarios/latency.ts'
import { manyTopics } from './scenarios/many-topics.ts'
import { publish } from './scenarios/publish.ts'
import { SIZES, withOverrides } from './scenarios/sizes.ts'
import type { TargetKind } from './targets/types.ts'
import type { CaseResult, MachineInfo, TargetDescription } from './types.ts'

/** Order matters: connections first, on a fresh process, so its memory figure starts clean. */
export const SCENARIOS: Scenario[] = [connections, fanout, manyTopics, latency, publish, drop]

export interface RunOptions {
  mode: 'quick' | 'full'
  targets: TargetKind[]
  scenarios: string[] | undefined
  outDir: string
  distDir: string
  cpuProfile: boolean
  /** Size overrides, `path=value` (see withOverrides). */
  sizes: string[]
}

function machine(): MachineInfo {
  const c = cpus()
  return {
    cpus: c.length,
    cpuModel: c[0]?.model.trim() ?? '?',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${process.arch}`,
    loadAvgStart: loadAverage(),
  }
}

/** Runs every selected scenario against every target, writing results as it goes. */
export async function runBench(opts: RunOptions): Promise<string> {
  const runId = newRunId()
  const rawDir = join(opts.outDir, 'raw', runId)
  mkdirSync(join(rawDir, 'profiles'), { recursive: true })
  const sizes = withOverrides(SIZES[opts.mode], opts.sizes)
  const scenarios = SCENARIOS.filter((s) => !opts.scenarios || opts.scenarios.includes(s.name))
  const info = machine()
  const t0 = Date.now()
  const progress = (target: string) => (msg: string) => {
    const s = Math.round((Date.now() - t0) / 1000)
    const clock = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
    process.stderr.write(`[bench ${clock} load ${loadAverage().toFixed(1)}] ${target} · ${msg}\n`)
  }
  progress('run')(
    `${runId}, ${opts.mode}, ${info.cpus} cores, load average ${info.loadAvgStart}, ${Math.round(freemem() / 2 ** 30)} GiB free`,
  )
  if (info.loadAvgStart > 1.5)
    progress('run')('the machine is busy (load average > 1.5): figures will be low and noisy')

  const results: CaseResult[] = []
  const described: TargetDescription[] = []
  const loadEnd = new Map<string, number>()
  const save = () => {
    for (const s of scenarios) {
      writeScenarioFile(opts.outDir, {
        runId,
        mode: opts.mode,
        scenario: s.name,
        startedAt: new Date(t0).toISOString(),
        machine: { ...info, loadAvgEnd: loadEnd.get(s.name) ?? loadAverage() },
        targets: described,
        results: results.filter((r) => r.scenario === s.name),
      })
    }
    return writeSummary(opts.outDir, runId)
  }

  const pool = new LoadPool(opts.distDir, sizes.subscriberProcs, sizes.publisherProcs)
  try {
    for (const kind of opts.targets) {
      const say = progress(kind.name)
      const why = await kind.unavailable()
      if (why) {
        say(`not run: ${why}`)
        described.push({ name: kind.name, label: kind.label, detail: `not run: ${why}` })
        continue
      }
      say('starting')
      let target: Awaited<ReturnType<TargetKind['start']>>
      try {
        target = await kind.start({ rawDir, cpuProfile: opts.cpuProfile })
      } catch (err) {
        say(`could not start: ${(err as Error).message}`)
        described.push({
          name: kind.name,
          label: kind.label,
          detail: `could not start: ${(err as Error).message.split('\n')[0]}`,
        })
        for (const s of scenarios) results.push(failed(s.name, 'all cases', kind.name, err))
        continue
      }
      described.push({ name: target.name, label: target.label, detail: target.detail })
      const own = target.sizeLimits ? withOverrides(sizes, target.sizeLimits) : sizes
      const ctx: BenchContext = { target, pool, sizes: own, progress: say }
      try {
        for (const s of scenarios) {
          results.push(...(await s.run(ctx)))
          loadEnd.set(s.name, loadAverage())
        }
      } finally {
        say('stopping')
        await target.stop()
      }
      save()
    }
  } finally {
    pool.stop()
  }
  const summary = save()
  progress('run')(`done in ${Math.round((Date.now() - t0) / 1000)} s: ${summary}`)
  return summary
}
