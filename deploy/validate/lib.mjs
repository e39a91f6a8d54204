// Small helpers shared by the deploy checks: a TAP-like report, free loopback ports, bounded
// waits, and processes started and stopped by PID.
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** Counts results; scripts/test.d/40-deploy.sh reads the `ok` / `not ok` lines. */
export function createReport() {
  let failed = 0
  return {
    ok(name) {
      console.log(`ok - ${name}`)
    },
    fail(name, why) {
      failed++
      console.log(`not ok - ${name}: ${why}`)
    },
    skip(name, why) {
      console.log(`ok - ${name} # SKIP ${why}`)
    },
    /** Records `cond` as a check; returns it so callers can skip dependent checks. */
    check(name, cond, why = 'false') {
      if (cond) this.ok(name)
      else this.fail(name, why)
      return Boolean(cond)
    },
    get failed() {
      return failed
    },
    /** The same report with `prefix` put before every name. */
    prefixed(prefix) {
      return {
        ok: (name) => this.ok(prefix + name),
        fail: (name, why) => this.fail(prefix + name, why),
        skip: (name, why) => this.skip(prefix + name, why),
        check: (name, cond, why) => this.check(prefix + name, cond, why),
      }
    },
  }
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Calls `probe` until it returns a truthy value or `ms` pass; returns that value or undefined. */
export async function waitFor(probe, ms, everyMs = 100) {
  const end = Date.now() + ms
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v) return v
    if (Date.now() >= end) return undefined
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** Starts a process with its output collected (for the report when something fails). */
export function start(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (d) => {
    output = (output + d).slice(-20_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', (err) => resolve({ code: null, signal: null, err }))
  })
  return {
    pid: child.pid,
    exited,
    get output() {
      return output
    },
  }
}

/** Sends `signal` to the PID and waits up to `ms` for the exit; SIGKILL after that. */
export async function stop(proc, signal = 'SIGTERM', ms = 15_000) {
  try {
    process.kill(proc.pid, signal)
  } catch {
    return proc.exited
  }
  const timer = new Promise((r) => setTimeout(() => r('timeout'), ms))
  const res = await Promise.race([proc.exited, timer])
  if (res !== 'timeout') return res
  try {
    process.kill(proc.pid, 'SIGKILL')
  } catch {}
  await proc.exited
  return { code: null, signal: 'SIGKILL', timedOut: true }
}
