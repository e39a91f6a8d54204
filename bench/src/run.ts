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
import { pipelined } from './scenarios/pipelined.ts'
import { publish } from './scenarios/publish.ts'
import { SIZES, type Sizes, withOverrides } from './scenarios/sizes.ts'
import type { RunningTarget, TargetKind } from './targets/types.ts'
import type { CaseResult, MachineInfo, TargetDescription } from './types.ts'

/** Order matters: connections first, on a fresh process, so its memory figure starts clean. */
export const SCENARIOS: Scenario[] = [
  connections,
  fanout,
  manyTopics,
  latency,
  publish,
  drop,
  pipelined,
]

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
        machine: { ...info, loadAvgEnd: loadAverage(), loadAvgAfter: Object.fromEntries(loadEnd) },
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
      const own = kind.sizeLimits ? withOverrides(sizes, kind.sizeLimits) : sizes
      for (const session of sessions(scenarios, own)) {
        const ran = await runSession(kind, session.scenarios, session.sizes, {
          rawDir,
          cpuProfile: opts.cpuProfile,
          pool,
          say,
        })
        results.push(...ran.results)
        if (!described.some((d) => d.name === kind.name)) described.push(ran.described)
      }
      loadEnd.set(kind.name, loadAverage())
      save()
    }
  } finally {
    pool.stop()
  }
  const summary = save()
  progress('run')(`done in ${Math.round((Date.now() - t0) / 1000)} s: ${summary}`)
  return summary
}

/**
 * How a target's scenarios are split over fresh processes: each connection count on its own
 * process (memory grown by one case would hide in the next one's baseline), then the rest.
 */
function sessions(
  scenarios: Scenario[],
  sizes: Sizes,
): Array<{ scenarios: Scenario[]; sizes: Sizes }> {
  const out: Array<{ scenarios: Scenario[]; sizes: Sizes }> = []
  if (scenarios.includes(connections)) {
    const c = sizes.connections
    for (const n of c.counts) {
      out.push({
        scenarios: [connections],
        sizes: { ...sizes, connections: { ...c, counts: [n], wsCounts: [] } },
      })
    }
    for (const n of c.wsCounts) {
      out.push({
        scenarios: [connections],
        sizes: { ...sizes, connections: { ...c, counts: [], wsCounts: [n] } },
      })
    }
  }
  const rest = scenarios.filter((s) => s !== connections)
  if (rest.length > 0) out.push({ scenarios: rest, sizes })
  return out
}

/** Targets running now: stopped on Ctrl-C / SIGTERM, so none outlives the run. */
const live = new Set<RunningTarget>()
let interrupted = false

/** Stops whatever runs now and exits (130 after Ctrl-C, 143 after SIGTERM). */
export function stopOnSignals(): void {
  const stop = (code: number) => {
    if (interrupted) return
    interrupted = true
    process.stderr.write('\n[bench] interrupted: stopping the targets\n')
    Promise.allSettled([...live].map((t) => t.stop())).then(() => process.exit(code))
  }
  process.once('SIGINT', () => stop(130))
  process.once('SIGTERM', () => stop(143))
}

/** Adds a running target to those stopped on Ctrl-C / SIGTERM; returns what takes it off. */
export function stopOnSignal(target: RunningTarget): () => void {
  live.add(target)
  return () => live.delete(target)
}

/** Starts the target, runs the scenarios against it, stops it. */
async function runSession(
  kind: TargetKind,
  scenarios: Scenario[],
  sizes: Sizes,
  o: { rawDir: string; cpuProfile: boolean; pool: LoadPool; say: (msg: string) => void },
): Promise<{ results: CaseResult[]; described: TargetDescription }> {
  o.say('starting')
  let target: RunningTarget
  try {
    target = await kind.start({ rawDir: o.rawDir, cpuProfile: o.cpuProfile })
  } catch (err) {
    const message = (err as Error).message
    o.say(`could not start: ${message}`)
    return {
      results: scenarios.map((s) => failed(s.name, 'all cases', kind.name, err)),
      described: {
        name: kind.name,
        label: kind.label,
        detail: `could not start: ${message.split('\n')[0]}`,
      },
    }
  }
  const results: CaseResult[] = []
  const ctx: BenchContext = { target, pool: o.pool, sizes, progress: o.say }
  live.add(target)
  try {
    for (const s of scenarios) results.push(...(await s.run(ctx)))
  } finally {
    o.say('stopping')
    await target.stop()
    live.delete(target)
  }
  return { results, described: { name: target.name, label: target.label, detail: target.detail } }
}
