const USAGE = `The benchmark tool (docs/benchmarks.md).
  node bench/dist/cli.js run [--mode quick|full] [--targets node,nchan,...] [--scenarios fanout,...]
      [--cpu-prof] [--set fanout.subscribers=100,1000 ...]
  node bench/dist/cli.js compare [OLD_RUN_ID] [NEW_RUN_ID]
  node bench/dist/cli.js summary [RUN_ID]
  node bench/dist/cli.js profile FILE.cpuprofile [TOP]
  node bench/dist/cli.js interleave --targets bare,node-before,node [--rounds 24] [--seconds 1.5] [--conns 32]
 Results go to benchmark-results/ at the repository root (or --out DIR).
`
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { interleave } from './interleave.ts'
import { compareRuns } from './report/compare.ts'
import { listRuns, writeSummary } from './report/files.ts'
import { summarizeProfile } from './report/profile.ts'
import { SCENARIOS, runBench, stopOnSignals } from './run.ts'
import { bareTarget, baselineTarget } from './targets/baseline.ts'
import { clusterTarget, nodeTarget } from './targets/gateway.ts'
import { nchanTarget } from './targets/nchan.ts'
import type { TargetKind } from './targets/types.ts'
import { workerdTarget } from './targets/workerd.ts'

const DIST = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(DIST, '../..')

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`)
  if (i >= 0) return args[i + 1]
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}

/** The targets of a default run, in order; `nchan-2w`, `node-w2` (two processes) only when named. */
function allTargets(): TargetKind[] {
  return [
    baselineTarget(DIST),
    bareTarget(DIST),
    nchanTarget(1),
    nodeTarget(ROOT),
    clusterTarget(ROOT),
    workerdTarget(ROOT),
  ]
}

/** Targets by name, in the order given. */
function namedTargets(names: string[]): TargetKind[] {
  const known = [
    ...allTargets(),
    nchanTarget(2),
    nodeTarget(ROOT, { replayOff: true }),
    nodeTarget(ROOT, { before: true }),
    nodeTarget(ROOT, { workers: 2 }),
    workerdTarget(ROOT, { wrangler: true }),
  ]
  return names.map((n) => {
    // Any number of processes: node-w4, nchan-8w (scripts/bench-scaling.sh).
    const w = /^node-w(\d+)$/.exec(n) ?? /^nchan-(\d+)w$/.exec(n)
    if (w && !known.some((k) => k.name === n)) {
      const count = Number(w[1])
      return n.startsWith('node') ? nodeTarget(ROOT, { workers: count }) : nchanTarget(count)
    }
    const t = known.find((k) => k.name === n)
    if (!t) throw new Error(`unknown target ${n}: use ${known.map((k) => k.name).join(', ')}`)
    return t
  })
}

async function main(argv: string[]): Promise<void> {
  const [cmd = 'help', ...args] = argv
  const out = resolve(flag(args, 'out') ?? resolve(ROOT, 'benchmark-results'))
  const positional = args.filter(
    (a, i) => !a.startsWith('--') && !args[i - 1]?.match(/^--[a-z-]+$/),
  )
  switch (cmd) {
    case 'run': {
      const mode = flag(args, 'mode') === 'full' ? 'full' : 'quick'
      const names = flag(args, 'targets')?.split(',')
      const targets = names ? namedTargets(names) : allTargets()
      const scenarios = flag(args, 'scenarios')?.split(',')
      for (const s of scenarios ?? []) {
        if (!SCENARIOS.some((x) => x.name === s)) {
          throw new Error(`unknown scenario ${s}: use ${SCENARIOS.map((x) => x.name).join(', ')}`)
        }
      }
      stopOnSignals()
      const sizes = args.flatMap((a, i) =>
        a === '--set' && args[i + 1] ? [args[i + 1] as string] : [],
      )
      const summary = await runBench({
        mode,
        targets,
        scenarios,
        outDir: out,
        distDir: DIST,
        cpuProfile: args.includes('--cpu-prof'),
        sizes,
      })
      const md = readFileSync(summary, 'utf8')
      const side = md.slice(
        md.indexOf('## Side by side'),
        md.indexOf('\n## ', md.indexOf('## Side by side') + 5),
      )
      process.stdout.write(`\n${side}\nSummary: ${summary}\n`)
      return
    }
    case 'compare':
      process.stdout.write(compareRuns(out, positional[0], positional[1]))
      return
    case 'summary': {
      const id = positional[0] ?? listRuns(out).at(-1)
      if (!id) throw new Error(`no runs in ${out}`)
      process.stdout.write(`${writeSummary(out, id)}\n`)
      return
    }
    case 'interleave': {
      const names = flag(args, 'targets')?.split(',') ?? ['bare', 'node']
      stopOnSignals()
      const table = await interleave({
        targets: namedTargets(names),
        rounds: Number(flag(args, 'rounds') ?? 24),
        seconds: Number(flag(args, 'seconds') ?? 1.5),
        conns: Number(flag(args, 'conns') ?? 32),
        outDir: out,
      })
      process.stdout.write(table)
      return
    }
    case 'profile': {
      const file = positional[0]
      if (!file) throw new Error('profile needs a .cpuprofile file')
      process.stdout.write(summarizeProfile(file, Number(positional[1] ?? 25)))
      return
    }
    default:
      process.stdout.write(USAGE)
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`)
    process.exit(1)
  },
)
