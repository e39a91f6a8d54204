import { readFileSync, readdirSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const HZ = 100

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** `pid` and all its descendants (nginx workers, workerd under wrangler, ...). */
export function processTree(pid: number): number[] {
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0 && out.length < 256) {
    const p = queue.shift() as number
    out.push(p)
    let tasks: string[] = []
    try {
      tasks = readdirSync(`/proc/${p}/task`)
    } catch {
      continue
    }
    for (const t of tasks) {
      const kids = read(`/proc/${p}/task/${t}/children`)
      if (kids) for (const k of kids.trim().split(/\s+/).filter(Boolean)) queue.push(Number(k))
    }
  }
  return out
}

/** The processes among `pids` whose command name (`/proc/<pid>/comm`) is `name`. */
export function pidsNamed(pids: number[], name: string): number[] {
  return pids.filter((pid) => read(`/proc/${pid}/comm`)?.trim() === name)
}

/** CPU seconds (user + system) used so far by these processes. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`)
    if (!stat) continue
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(f[11]) + Number(f[12]) // utime, stime (fields 14 and 15)
  }
  return ticks / HZ
}

/**
 * Memory of these processes in bytes: the proportional set size (shared pages split between the
 * processes sharing them, so nginx's master and worker are not counted twice), else VmRSS.
 */
export function memoryBytes(pids: number[]): number {
  let total = 0
  for (const pid of pids) {
    const rollup = read(`/proc/${pid}/smaps_rollup`)
    const pss = rollup && /^Pss:\s+(\d+) kB/m.exec(rollup)
    if (pss) {
      total += Number(pss[1]) * 1024
      continue
    }
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`) ?? '')
    if (rss) total += Number(rss[1]) * 1024
  }
  return total
}

/** Measures the CPU a set of processes uses between `start()` and `stop()`, in % of one core. */
export class CpuMeter {
  #pids: () => number[]
  #cpu0 = 0
  #t0 = 0

  constructor(pids: () => number[]) {
    this.#pids = pids
  }

  start(): void {
    this.#cpu0 = cpuSeconds(this.#pids())
    this.#t0 = performance.now()
  }

  stop(): number {
    const wall = (performance.now() - this.#t0) / 1000
    return wall > 0 ? ((cpuSeconds(this.#pids()) - this.#cpu0) / wall) * 100 : 0
  }
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number((read('/proc/loadavg') ?? '0').split(' ')[0])
}
