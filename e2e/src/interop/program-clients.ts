import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { ROOT } from '../targets/util.ts'
import { ClientRun, parseLine } from './client-run.ts'

/** Where the interop clients live: one directory each, with a `client.json`. */
export const CLIENTS_DIR = resolve(ROOT, 'e2e/interop/clients')

/** A client's `client.json`: what it is, how to build and run it, what it needs. */
export interface ClientSpec {
  name: string
  language: string
  transport: 'sse' | 'ws'
  /** The library under test, as its registry names it, and the version the lock file pins. */
  library: string
  version: string
  /** Commands run once, from the client's directory, before any cell. */
  build?: string[][]
  /** The command that runs the client, from its directory. */
  run: string[]
  /** Commands that must be on PATH; the client is reported as not run without them. */
  unavailable_if_missing?: string[]
  /** The largest event the library accepts as configured, when below 64 KiB. */
  max_event_bytes?: number
  /** How a user raises that limit (shown in the report next to the limit). */
  limit_workaround?: string
  /** What a user of this library should know (shown in the report). */
  notes?: string
  /** The client's directory (set by the harness). */
  dir: string
}

/** Reads every `client.json`; a malformed one is an error naming the file. */
export function discoverClients(dir = CLIENTS_DIR): ClientSpec[] {
  if (!existsSync(dir)) return []
  const specs: ClientSpec[] = []
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'client.json')
    if (!existsSync(file)) continue
    const spec = JSON.parse(readFileSync(file, 'utf8')) as ClientSpec
    const problems = [
      typeof spec.name !== 'string' && 'name',
      spec.transport !== 'sse' && spec.transport !== 'ws' && 'transport (sse or ws)',
      typeof spec.library !== 'string' && 'library',
      typeof spec.version !== 'string' && 'version',
      !(Array.isArray(spec.run) && spec.run.length > 0) && 'run',
    ].filter(Boolean)
    if (problems.length > 0) throw new Error(`${file}: missing or wrong ${problems.join(', ')}`)
    specs.push({ ...spec, dir: join(dir, name) })
  }
  return specs
}

/** True when `cmd` is an executable file on PATH (or a path to one). */
export function onPath(cmd: string): boolean {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (process.env.PATH ?? '').split(delimiter).map((p) => join(p, cmd))
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Why the client cannot run here (a command it needs is missing), or undefined. */
export function missingTools(spec: ClientSpec): string | undefined {
  const missing = (spec.unavailable_if_missing ?? []).filter((c) => !onPath(c))
  return missing.length > 0 ? `${missing.join(', ')} not found on PATH` : undefined
}

/** Runs the client's build commands in order; resolves with the first failure, or undefined. */
export async function buildClient(
  spec: ClientSpec,
  timeoutMs = 600_000,
): Promise<string | undefined> {
  for (const [cmd, ...args] of spec.build ?? []) {
    if (!cmd) continue
    const r = await runToEnd(cmd, args, spec.dir, timeoutMs)
    if (r.code !== 0) {
      return `${[cmd, ...args].join(' ')} failed (${r.code ?? r.signal}): ${r.output.trim().slice(-1500)}`
    }
  }
  return undefined
}

function runToEnd(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-20_000)
    }
    p.stdout.on('data', keep)
    p.stderr.on('data', keep)
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.once('error', (err) => {
      clearTimeout(timer)
      resolve({ code: -1, signal: null, output: err.message })
    })
    p.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
}

/** A client program: started with INTEROP_URL and INTEROP_EVENT_TYPES, read line by line. */
export class ProgramRun extends ClientRun {
  readonly #proc: ChildProcess
  readonly #exited: Promise<void>
  #partial = ''

  constructor(spec: ClientSpec, url: string, eventTypes: string[]) {
    super(spec.name)
    const [cmd, ...args] = spec.run as [string, ...string[]]
    this.#proc = spawn(cmd, args, {
      cwd: spec.dir,
      env: {
        ...process.env,
        INTEROP_URL: url,
        INTEROP_EVENT_TYPES: eventTypes.join(','),
        NO_COLOR: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.#proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.#partial + chunk).split('\n')
      this.#partial = lines.pop() ?? ''
      for (const line of lines) if (line.trim() !== '') this.push(parseLine(line))
    })
    this.#proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.addStderr(chunk))
    this.#proc.stdin?.on('error', () => {}) // a client that already exited: EPIPE is expected
    this.#proc.once('error', (err) => this.ended(`could not start: ${err.message}`))
    this.#exited = new Promise((r) => this.#proc.once('close', () => r()))
    this.#proc.once('exit', (code, signal) => this.ended(`exited ${code ?? signal}`))
  }

  /** Closes stdin (the clients' documented way to stop), then SIGTERM, then SIGKILL; 6 s at most. */
  async stop(): Promise<void> {
    const p = this.#proc
    if (p.exitCode !== null || p.signalCode !== null) return
    p.stdin?.end()
    const term = setTimeout(() => p.kill('SIGTERM'), 2000)
    const kill = setTimeout(() => p.kill('SIGKILL'), 4000)
    await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 6000))])
    clearTimeout(term)
    clearTimeout(kill)
  }
}
