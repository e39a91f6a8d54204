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
