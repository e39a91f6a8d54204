import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { resolve } from 'node:path'

// Self-contained on purpose: the browser tests need only the built gateway, not the e2e package.
export const ROOT = resolve(import.meta.dirname, '../../../..')
export const NODE_MAIN = resolve(ROOT, 'packages/node/dist/main.js')
export const ADMIN_DIST = resolve(ROOT, 'apps/admin/dist')

/** What is missing to run the browser tests against a real gateway, if anything. */
export function missingBuilds(): string | undefined {
  if (!existsSync(NODE_MAIN)) return `${NODE_MAIN} is not built (run make build)`
  if (!existsSync(resolve(ADMIN_DIST, 'index.html')))
    return `${ADMIN_DIST} is not built (run make build)`
  return undefined
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.once('error', rej)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() =>
        addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port')),
      )
    })
  })
}

/**
 * A real gateway process (packages/node/dist/main.js) on a loopback port that stays the same
 * across restart(), so the open page sees a network blip rather than a new origin.
 */
export class GatewayProcess {
  #proc: ChildProcess | undefined
  #output = ''
  private constructor(
    readonly port: number,
    public apiKey: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  static async start(apiKey: string): Promise<GatewayProcess> {
    const gw = new GatewayProcess(await freePort(), apiKey)
    await gw.#spawn()
    return gw
  }

  async #spawn(): Promise<void> {
    const proc = spawn(process.execPath, [NODE_MAIN], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(this.port),
        API_KEYS: this.apiKey,
        NODE_ID: 'gw-1',
        LOG_LEVEL: 'warn',
        // A socket that never sent a request (Chromium and undici open spare ones) holds the
        // drain until this timeout; 2 s keeps the restarts in these tests short.
        SHUTDOWN_TIMEOUT_MS: '2000',
        ADMIN_UI_DIR: ADMIN_DIST,
      },
    })
    this.#proc = proc
    const keep = (b: Buffer) => {
      this.#output = (this.#output + b.toString()).slice(-16_384)
    }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    const deadline = Date.now() + 15_000
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`gateway exited early:\n${this.#output}`)
      const ok = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) return
      if (Date.now() > deadline) {
        await this.stop()
        throw new Error(`gateway not ready after 15 s:\n${this.#output}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** Stops the process (SIGTERM: streams end cleanly), then starts a new one on the same port. */
  async restart(opts: { apiKey?: string; between?: () => Promise<void> } = {}): Promise<void> {
    await this.stop()
    await opts.between?.()
    if (opts.apiKey) this.apiKey = opts.apiKey
    await this.#spawn()
  }

  /** SIGTERM to the process this object started, SIGKILL if it has not exited after 5 s. */
  async stop(): Promise<void> {
    const proc = this.#proc
    this.#proc = undefined
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>((r) => proc.once('exit', () => r()))
    proc.kill('SIGTERM')
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(t)
  }
}
