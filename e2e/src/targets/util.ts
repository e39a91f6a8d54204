import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../../..')

/**
 * The replay window every e2e target runs with (REPLAY_EVENTS): small, so the resume suite can
 * publish past it in a moment; everything else is the default.
 */
export const E2E_REPLAY_EVENTS = 50

/**
 * Private topics on every local e2e target (docs/private-topics.md): topics under `private:` and
 * the topic `vip` need a subscriber token signed with this secret; every other topic stays public,
 * so the rest of the suites run as with the default.
 */
export const E2E_TOKEN_SECRET = 'e2e-subscriber-token-secret-0123456789abcdef'
export const E2E_PRIVATE_ENV: Record<string, string> = {
  PRIVATE_TOPICS: 'private:*,vip',
  TOKEN_SECRET: E2E_TOKEN_SECRET,
}

/** BODY_TIMEOUT_MS of every e2e target: short, so a stalled publish is answered within seconds. */
export const E2E_BODY_TIMEOUT_MS = 3000

/** A TCP port free on `host` right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.once('error', rej)
    srv.listen(0, host, () => {
      const addr = srv.address()
      srv.close(() =>
        addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port')),
      )
    })
  })
}

/** Polls `url` until it answers 200, or fails after `timeoutMs` with the process output. */
export async function waitReady(
  url: string,
  timeoutMs: number,
  proc?: ChildProcess,
  output?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) {
      throw new Error(
        `process exited with ${proc.exitCode} before ${url} was ready:\n${output?.() ?? ''}`,
      )
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (res.ok) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = String(err)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})\n${output?.() ?? ''}`)
}

export interface Spawned {
  proc: ChildProcess
  output: () => string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>
}

/** Starts a process whose output is kept (last 64 KiB) for error messages. */
export function spawnLogged(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd = ROOT,
): Spawned {
  const proc = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-65536)
  }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  return {
    proc,
    output: () => out,
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(t)
    },
  }
}
