import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import type { Target, TargetFactory } from './types.ts'
import {
  E2E_BODY_TIMEOUT_MS,
  E2E_PRIVATE_ENV,
  E2E_REPLAY_EVENTS,
  ROOT,
  freePort,
  spawnLogged,
  waitReady,
} from './util.ts'

const run = promisify(execFile)
/** HEARTBEAT_MS in wrangler.jsonc. */
const DEFAULT_HEARTBEAT_MS = 15_000
export const CF_PACKAGE = resolve(ROOT, 'packages/cloudflare')
const WRANGLER = resolve(ROOT, 'node_modules/wrangler/bin/wrangler.js')

/** Quiet, offline-friendly wrangler: no banner (its update check), no telemetry. */
export const WRANGLER_ENV: Record<string, string> = {
  WRANGLER_HIDE_BANNER: 'true',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  // `wrangler dev` (only dev) reads an unread request body before it sends the response: the
  // drop path, which answers without reading the body, would wait for the whole body.
  WRANGLER_DISABLE_REQUEST_BODY_DRAINING: 'true',
}

/** Copies the built admin UI into the Worker's static assets (scripts/sync-admin.mjs). */
async function syncAdmin(): Promise<void> {
  await run(process.execPath, [join(CF_PACKAGE, 'scripts/sync-admin.mjs')], { cwd: CF_PACKAGE })
}

/**
 * Bundles the Worker once (`wrangler deploy --dry-run`) into `dir`, beside a copy of its config
 * and static assets. `wrangler dev` then runs that snapshot: an edit in the tree while a suite
 * runs cannot reload the Worker (a reload ends every open stream).
 */
async function snapshot(dir: string): Promise<string> {
  await run(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', join(dir, 'dist')], {
    cwd: CF_PACKAGE,
    env: { ...process.env, ...WRANGLER_ENV },
  })
  const config = join(dir, 'wrangler.jsonc')
  cpSync(join(CF_PACKAGE, 'wrangler.jsonc'), config)
  mkdirSync(join(dir, 'static'), { recursive: true })
  cpSync(join(CF_PACKAGE, 'static'), join(dir, 'static'), { recursive: true })
  return config
}

/**
 * Starts the Worker under `wrangler dev` (workerd, the real Workers runtime) on 127.0.0.1, with
 * fresh Durable Object storage and the settings of `wrangler.jsonc` (the default heartbeat: a
 * client that left is noticed through DISCONNECT_CHECK_MS, within about a second).
 */
export async function startWranglerDev(
  vars: Record<string, string> = {},
): Promise<Target & { pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-gateway-wrangler-'))
  let config: string
  try {
    await syncAdmin()
    config = await snapshot(dir)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const port = await freePort()
  const inspector = await freePort()
  const apiKey = vars.API_KEYS?.split(',')[0] ?? 'e2e-key'
  const allVars: Record<string, string> = {
    API_KEYS: apiKey,
    LOG_LEVEL: 'warn',
    REPLAY_EVENTS: String(E2E_REPLAY_EVENTS),
    BODY_TIMEOUT_MS: String(E2E_BODY_TIMEOUT_MS),
    // wrangler dev's proxy needs an unread body read before the answer ends (unread-body.ts).
    UNREAD_BODY: 'hold',
    ...E2E_PRIVATE_ENV,
    ...vars,
  }
  const args = [WRANGLER, 'dev', 'dist/worker.js', '-c', config, '--no-bundle']
  args.push('--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector))
  args.push('--persist-to', join(dir, 'state'), '--log-level', 'warn')
  for (const [k, v] of Object.entries(allVars)) args.push('--var', `${k}:${v}`)
  const p = spawnLogged(process.execPath, args, WRANGLER_ENV, dir)
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    await p.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitReady(`${url}/readyz`, 60_000, p.proc, p.output)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    name: 'wrangler-dev',
    url,
    urls: [url],
    apiKey,
    heartbeatMs: Number(allVars.HEARTBEAT_MS ?? DEFAULT_HEARTBEAT_MS),
    tokenSecret: allVars.TOKEN_SECRET,
    pid: p.proc.pid ?? 0,
    // A Worker's stream has no send buffer the gateway can measure the way Node's socket has:
    // slow-consumer disconnects are not tested here (docs/cloudflare.md, "Limits").
    capabilities: { slowConsumer: false, metrics: true },
    stop,
  }
}

/**
 * Starts the Worker the way `make cf-dev` does (packages/cloudflare/scripts/dev.mjs): local
 * workerd through Miniflare, without `wrangler dev`'s proxy, Durable Object storage in memory,
 * the settings of `wrangler.jsonc` (the default heartbeat included) except `REPLAY_EVENTS`.
 */
export async function startCfDev(
  vars: Record<string, string> = {},
): Promise<Target & { pid: number }> {
  await syncAdmin()
  const port = await freePort()
  const apiKey = vars.API_KEYS?.split(',')[0] ?? 'e2e-key'
  const allVars: Record<string, string> = {
    API_KEYS: apiKey,
    LOG_LEVEL: 'warn',
    REPLAY_EVENTS: String(E2E_REPLAY_EVENTS),
    BODY_TIMEOUT_MS: String(E2E_BODY_TIMEOUT_MS),
    ...E2E_PRIVATE_ENV,
    ...vars,
  }
  const args = [join(CF_PACKAGE, 'scripts/dev.mjs'), '--ip', '127.0.0.1', '--port', String(port)]
  for (const [k, v] of Object.entries(allVars)) args.push('--var', `${k}:${v}`)
  const p = spawnLogged(process.execPath, args, WRANGLER_ENV, CF_PACKAGE)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitReady(`${url}/readyz`, 60_000, p.proc, p.output)
  } catch (err) {
    await p.stop()
    throw err
  }
  return {
    name: 'cf-dev',
    url,
    urls: [url],
    apiKey,
    heartbeatMs: Number(allVars.HEARTBEAT_MS ?? DEFAULT_HEARTBEAT_MS),
    tokenSecret: allVars.TOKEN_SECRET,
    pid: p.proc.pid ?? 0,
    capabilities: { slowConsumer: false, metrics: true },
    stop: () => p.stop(),
  }
}

/** `make cf-dev`'s runtime: the Worker in Miniflare (local workerd, no dev proxy). */
export const cfDevTarget: TargetFactory = {
  name: 'cf-dev',
  async unavailable() {
    return existsSync(WRANGLER) ? undefined : `${WRANGLER} not installed (run make setup)`
  },
  start: () => startCfDev(),
}

export const wranglerDevTarget: TargetFactory = {
  name: 'wrangler-dev',
  async unavailable() {
    return existsSync(WRANGLER) ? undefined : `${WRANGLER} not installed (run make setup)`
  },
  start: () => startWranglerDev(),
}

/**
 * The deployed Worker. Runs only with CLOUDFLARE_API_TOKEN: against CLOUDFLARE_GATEWAY_URL
 * (with CLOUDFLARE_GATEWAY_KEY) when given, else it deploys a throwaway Worker named
 * `sse-gateway-e2e` (CLOUDFLARE_ACCOUNT_ID needed) with a fresh key, and deletes it after.
 */
export const cloudflareTarget: TargetFactory = {
  name: 'cloudflare',
  async unavailable() {
    if (!process.env.CLOUDFLARE_API_TOKEN) return 'CLOUDFLARE_API_TOKEN is not set'
    if (process.env.CLOUDFLARE_GATEWAY_URL && !process.env.CLOUDFLARE_GATEWAY_KEY) {
      return 'CLOUDFLARE_GATEWAY_URL is set without CLOUDFLARE_GATEWAY_KEY'
    }
    if (!process.env.CLOUDFLARE_GATEWAY_URL && !process.env.CLOUDFLARE_ACCOUNT_ID) {
      return 'CLOUDFLARE_ACCOUNT_ID is not set (needed to deploy the e2e Worker)'
    }
    return undefined
  },
  async start() {
    const given = process.env.CLOUDFLARE_GATEWAY_URL
    if (given) {
      const url = given.replace(/\/+$/, '')
      await waitReady(`${url}/readyz`, 30_000)
      return deployedTarget(url, process.env.CLOUDFLARE_GATEWAY_KEY ?? '', async () => {})
    }
    return deployThrowaway()
  },
}

function deployedTarget(url: string, apiKey: string, stop: () => Promise<void>): Target {
  return {
    name: 'cloudflare',
    url,
    urls: [url],
    apiKey,
    heartbeatMs: DEFAULT_HEARTBEAT_MS,
    capabilities: { slowConsumer: false, metrics: true },
    stop,
  }
}

async function deployThrowaway(): Promise<Target> {
  const name = 'sse-gateway-e2e'
  const apiKey = `e2e-${crypto.randomUUID()}`
  const dir = mkdtempSync(join(tmpdir(), 'sse-gateway-deploy-'))
  const secrets = join(dir, 'secrets.json')
  writeFileSync(secrets, JSON.stringify({ API_KEYS: apiKey }), { mode: 0o600 })
  const opts = { cwd: CF_PACKAGE, env: { ...process.env, ...WRANGLER_ENV }, timeout: 180_000 }
  try {
    await syncAdmin()
    const args = [WRANGLER, 'deploy', '--name', name, '--secrets-file', secrets]
    const { stdout } = await run(process.execPath, args, opts)
    const url = /https:\/\/[^\s]+\.workers\.dev/.exec(stdout)?.[0]
    if (!url) throw new Error(`wrangler deploy printed no workers.dev URL:\n${stdout}`)
    await waitReady(`${url}/readyz`, 60_000)
    return deployedTarget(url, apiKey, async () => {
      await run(process.execPath, [WRANGLER, 'delete', '--name', name, '--force'], opts)
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
