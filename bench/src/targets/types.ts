import { type ChildProcess, spawn } from 'node:child_process'
import { openSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { processTree } from '../proc.ts'
import type { ApiKind, Endpoint } from '../types.ts'

/** A started target the scenarios measure. */
export interface RunningTarget {
  name: string
  label: string
  /** The settings that matter for the figures, for the report. */
  detail: string
  kind: ApiKind
  apiKey: string
  /** Where publishes go (the first node of a cluster). */
  publishAt: Endpoint[]
  /** Where subscribers connect: every node. */
  subscribeAt: Endpoint[]
  /** Processes whose CPU and memory count as the target's (process trees). */
  pids(): number[]
  /**
   * The processes that serve the requests, when not all of `pids` do (workerd, not the Node
   * process that runs Miniflare around it): the per-operation CPU and the memory per connection
   * count these. Default: `pids`.
   */
  runtimePids?(): number[]
  /** Connections one process of this target can hold (its open-file limit, less a margin). */
  connectionsPerProcess: number
  stop(): Promise<void>
}

export interface StartOptions {
  /** Directory for logs (and CPU profiles) of this run. */
  rawDir: string
  /** Node targets: write a V8 CPU profile (--cpu-prof) into rawDir/profiles. */
  cpuProfile: boolean
}

/** A kind of target: whether it can run here, and how to start it. */
export interface TargetKind {
  name: string
  label: string
  /** Why it cannot run on this machine, or undefined. */
  unavailable(): Promise<string | undefined>
  /**
   * Smaller sizes for a target that cannot take the mode's (`path=value`, as `--set`): its
   * cases then carry their own labels, and the report says so.
   */
  sizeLimits?: string[]
  start(opts: StartOptions): Promise<RunningTarget>
}

/** A TCP port free on `host` right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      srv.close(() =>
        addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port')),
      )
    })
  })
}

export interface Spawned {
  proc: ChildProcess
  pid: number
  tree(): number[]
  stop(graceMs?: number): Promise<void>
}

/**
 * Starts a process with its output in `rawDir/<logName>.log`. With BENCH_TARGET_CPUS set (a
 * `taskset` CPU list, e.g. `0-7`), the process and everything it starts run on those CPUs only
 * (`taskset` execs the command: the pid is the command's).
 */
export function spawnTo(
  rawDir: string,
  logName: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Spawned {
  const log = openSync(join(rawDir, `${logName}.log`), 'a')
  const cpus = process.env.BENCH_TARGET_CPUS
  if (cpus) {
    args = ['-c', cpus, cmd, ...args]
    cmd = 'taskset'
  }
  const proc = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  })
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  const pid = proc.pid ?? 0
  return {
    proc,
    pid,
    tree: () => (proc.exitCode === null ? processTree(pid) : []),
    async stop(graceMs = 8000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(t)
    },
  }
}

/** Polls `url` until it answers 2xx; fails after `timeoutMs`, or when `proc` exits. */
export async function waitHttp(url: string, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null)
      throw new Error(`exited (${proc.exitCode}) before ${url} answered`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = String(err)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`)
}
