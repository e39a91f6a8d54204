/**
 * The drop path of several targets side by side in many short rounds (docs/benchmarks.md, "Small
 * differences: interleaved rounds"). Every target is started once; each round publishes to
 * topics nobody subscribes to on each target in turn, in a new random order, for a second or two;
 * the figure is the median over the rounds of each target's CPU a drop divided by the first
 * target's in the same round. On a machine whose speed drifts from one minute to the next, a
 * ratio taken seconds apart is steadier than figures from separate runs.
 *
 *   node bench/dist/cli.js interleave --targets bare,node-before,node [--rounds 24] [--seconds 1.5] [--conns 32]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RawHttpConnection, publishHead } from './http-client.ts'
import { cpuSeconds } from './proc.ts'
import { stopOnSignal } from './run.ts'
import type { RunningTarget, TargetKind } from './targets/types.ts'

export interface InterleaveOptions {
  targets: TargetKind[]
  rounds: number
  seconds: number
  conns: number
  outDir: string
}

interface Sample {
  /** Drops answered `202` a second. */
  rps: number
  /** The target's CPU µs a drop (its serving processes). */
  us: number
}

const BODY = Buffer.from('0123456789abcdef')

/**
 * Publishes 16-byte drops on `conns` keep-alive connections, one in flight on each, for
 * `seconds`; resolves to the number answered `202`. Any other answer or a connection error
 * fails the round: a figure is only taken from drops that worked.
 */
async function dropLoad(t: RunningTarget, seconds: number, conns: number): Promise<number> {
  const ep = t.publishAt[0]
  if (!ep) throw new Error(`${t.name}: no publish endpoint`)
  const stopAt = performance.now() + seconds * 1000
  let done = 0
  const one = async (c: number) => {
    const http = new RawHttpConnection(ep)
    try {
      for (let n = c; performance.now() < stopAt; n += conns) {
        const head = publishHead(t.kind, ep, t.apiKey, `nobody-${n % 1000}`, `i${n}`, BODY.length)
        const { status } = await http.request(head, BODY)
        if (status !== 202 && status !== 200)
          throw new Error(`${t.name}: answered ${status} to a drop`)
        done++
      }
    } finally {
      http.close()
    }
  }
  await Promise.all(Array.from({ length: conns }, (_, c) => one(c)))
  return done
}

async function measure(t: RunningTarget, seconds: number, conns: number): Promise<Sample> {
  const pids = t.runtimePids?.() ?? t.pids()
  const cpu0 = cpuSeconds(pids)
  const t0 = performance.now()
  const done = await dropLoad(t, seconds, conns)
  const wall = (performance.now() - t0) / 1000
  const cpu = cpuSeconds(pids) - cpu0
  return { rps: done / wall, us: (cpu / Math.max(done, 1)) * 1e6 }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

function shuffled<T>(xs: T[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

/** Runs the rounds; writes `interleaved-<run>.json` and returns the Markdown table. */
export async function interleave(opts: InterleaveOptions): Promise<string> {
  const runId = new Date().toISOString().slice(0, 19).replace(/:/g, '-')
  const rawDir = join(opts.outDir, 'raw', runId)
  mkdirSync(rawDir, { recursive: true })
  const running: RunningTarget[] = []
  const forget: (() => void)[] = []
  try {
    for (const kind of opts.targets) {
      const why = await kind.unavailable()
      if (why) throw new Error(`${kind.name} cannot run here: ${why}`)
      const t = await kind.start({ rawDir, cpuProfile: false })
      running.push(t)
      forget.push(stopOnSignal(t))
    }
    // Warm-up: every target's code paths compiled before anything is counted.
    for (const t of running) await dropLoad(t, 0.5, opts.conns)
    const samples = new Map<string, Sample[]>(running.map((t) => [t.name, []]))
    for (let r = 0; r < opts.rounds; r++) {
      for (const t of shuffled(running)) {
        samples.get(t.name)?.push(await measure(t, opts.seconds, opts.conns))
      }
      process.stderr.write(`[interleave] round ${r + 1}/${opts.rounds}\n`)
    }
    const ref = running[0] as RunningTarget
    const refs = samples.get(ref.name) as Sample[]
    const rows = running.map((t) => {
      const s = samples.get(t.name) as Sample[]
      return {
        target: t.name,
        label: t.label,
        usPerDrop: median(s.map((x) => x.us)),
        requestsPerSec: median(s.map((x) => x.rps)),
        // Reference's CPU a drop ÷ this target's, round by round: above 1 is cheaper.
        efficiency: median(s.map((x, i) => (refs[i] as Sample).us / x.us)),
        rate: median(s.map((x, i) => x.rps / (refs[i] as Sample).rps)),
        samples: s,
      }
    })
    // Not `<run>-<scenario>.json`: the run reports read those as scenario files.
    const file = join(opts.outDir, `interleaved-${runId}.json`)
    const settings = { rounds: opts.rounds, seconds: opts.seconds, conns: opts.conns }
    writeFileSync(file, `${JSON.stringify({ runId, settings, rows }, null, 1)}\n`)
    const f = (x: number, d = 2) => x.toFixed(d)
    const table = [
      `Interleaved drop path, run ${runId}: ${opts.rounds} rounds × ${opts.seconds} s a target, ${opts.conns} connections; ratios to \`${ref.name}\`, round by round (median).`,
      '',
      `| target | CPU µs a drop | requests/s | ${ref.name}'s CPU a drop ÷ this | requests/s ÷ ${ref.name}'s |`,
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.target} | ${f(r.usPerDrop)} | ${Math.round(r.requestsPerSec).toLocaleString('en-US')} | ${f(r.efficiency, 3)} | ${f(r.rate, 3)} |`,
      ),
      '',
      `Raw: ${file}`,
    ]
    return `${table.join('\n')}\n`
  } finally {
    for (const t of running) await t.stop()
    for (const f of forget) f()
  }
}
