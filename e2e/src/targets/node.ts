import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Target, TargetFactory } from './types.ts'
import {
  E2E_BODY_TIMEOUT_MS,
  E2E_PRIVATE_ENV,
  E2E_TOKEN_SECRET,
  E2E_REPLAY_EVENTS,
  ROOT,
  freePort,
  spawnLogged,
  waitReady,
} from './util.ts'

export const NODE_MAIN = resolve(ROOT, 'packages/node/dist/main.js')

/** Starts one embedded-mode gateway (`node packages/node/dist/main.js`) on 127.0.0.1. */
export async function startNodeGateway(
  env: Record<string, string> = {},
): Promise<Target & { pid: number }> {
  const port = await freePort()
  const apiKey = env.API_KEYS?.split(',')[0] ?? 'e2e-key'
  const p = spawnLogged(process.execPath, [NODE_MAIN], {
    HOST: '127.0.0.1',
    PORT: String(port),
    API_KEYS: apiKey,
    LOG_LEVEL: 'warn',
    // Short heartbeats and a small slow-consumer bound so the suites see both within seconds.
    HEARTBEAT_MS: '1000',
    SLOW_CONSUMER_BYTES: '262144',
    REPLAY_EVENTS: String(E2E_REPLAY_EVENTS),
    BODY_TIMEOUT_MS: String(E2E_BODY_TIMEOUT_MS),
    ...E2E_PRIVATE_ENV,
    ...env,
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitReady(`${url}/readyz`, 15_000, p.proc, p.output)
    // WORKERS: ready once the first worker listens; the suites want every worker in.
    const workers = Number(env.WORKERS ?? '1')
    if (workers > 1) await waitNodes(url, apiKey, workers, p.output)
  } catch (err) {
    await p.stop()
    throw err
  }
  return {
    name: env.WORKERS && env.WORKERS !== '1' ? 'node-workers' : 'node',
    url,
    urls: [url],
    apiKey,
    pid: p.proc.pid ?? 0,
    tokenSecret: env.TOKEN_SECRET ?? E2E_TOKEN_SECRET,
    capabilities: { slowConsumer: true, metrics: true },
    stop: () => p.stop(),
  }
}

/** Waits (bounded) until the admin API lists `n` nodes: every worker of a WORKERS=n gateway. */
async function waitNodes(url: string, apiKey: string, n: number, output: () => string) {
  const deadline = Date.now() + 15_000
  let seen = 0
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/admin/api/nodes`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(2000),
    }).catch(() => undefined)
    if (res?.ok) seen = ((await res.json()) as { items: unknown[] }).items.length
    if (seen >= n) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url}: ${seen} of ${n} workers listed after 15 s\n${output()}`)
}

export const nodeTarget: TargetFactory = {
  name: 'node',
  async unavailable() {
    return existsSync(NODE_MAIN) ? undefined : `${NODE_MAIN} not built (run make build)`
  },
  start: () => startNodeGateway(),
}

/** WORKERS=2 without Redis: a primary and two worker processes behind one port. */
export const nodeWorkersTarget: TargetFactory = {
  name: 'node-workers',
  async unavailable() {
    return existsSync(NODE_MAIN) ? undefined : `${NODE_MAIN} not built (run make build)`
  },
  start: () => startNodeGateway({ WORKERS: '2' }),
}
