import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { NODE_MAIN } from './node.ts'
import type { Target, TargetFactory } from './types.ts'
import {
  E2E_BODY_TIMEOUT_MS,
  E2E_PRIVATE_ENV,
  E2E_TOKEN_SECRET,
  E2E_REPLAY_EVENTS,
  type Spawned,
  freePort,
  spawnLogged,
  waitReady,
} from './util.ts'

/** Loopback addresses of the three nodes: Linux answers on all of 127.0.0.0/8 without setup. */
export const NODE_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4']

export interface ClusterNode {
  id: string
  url: string
  /** The running process (replaced by `start`). */
  proc: Spawned
  /** SIGKILL: no drain, no deregistration; the lease runs out by itself. */
  kill(): Promise<void>
  /** SIGTERM, as a rolling deploy does: the node drains; resolves once it has exited. */
  drain(): Promise<void>
  /** Starts the node again (same id, address and port). */
  start(): Promise<void>
}

export interface ClusterRedis {
  url: string
  /** SIGKILL: every key is lost (no persistence). */
  kill(): Promise<void>
  /** Starts redis-server again on the same port, empty. */
  start(): Promise<void>
}

/** A real cluster: one redis-server and three gateway nodes, each on its own loopback address. */
export interface Cluster extends Target {
  nodes: ClusterNode[]
  redis: ClusterRedis
  ttlMs: number
}

export async function startRedis(port: number): Promise<Spawned> {
  const p = spawnLogged(
    'redis-server',
    ['--port', `${port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {},
  )
  const deadline = Date.now() + 10_000
  while (!p.output().includes('Ready to accept connections')) {
    if (p.proc.exitCode !== null || Date.now() > deadline) {
      await p.stop()
      throw new Error(`redis-server did not start on port ${port}:\n${p.output()}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  return p
}

/**
 * Starts redis-server on 127.0.0.1 and nodes `node-a`, `node-b`, `node-c` on 127.0.0.2-4,
 * each announcing its own address. `ttlMs` is their NODE_TTL_MS (short, so expiry is quick).
 */
export async function startCluster(
  opts: { ttlMs?: number; forward?: string } = {},
): Promise<Cluster> {
  const ttlMs = opts.ttlMs ?? 2000
  const apiKey = 'cluster-e2e-key'
  const redisPort = await freePort()
  let redisProc = await startRedis(redisPort)
  const redisUrl = `redis://127.0.0.1:${redisPort}`
  const nodes: ClusterNode[] = []
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()))
    await redisProc.stop()
  }
  try {
    for (const [i, host] of NODE_HOSTS.entries()) {
      const id = `node-${'abc'[i]}`
      const port = await freePort(host)
      const url = `http://${host}:${port}`
      const env = {
        HOST: host,
        PORT: `${port}`,
        API_KEYS: apiKey,
        REDIS_URL: redisUrl,
        NODE_ID: id,
        NODE_TTL_MS: `${ttlMs}`,
        LOG_LEVEL: 'warn',
        REPLAY_EVENTS: String(E2E_REPLAY_EVENTS),
        BODY_TIMEOUT_MS: String(E2E_BODY_TIMEOUT_MS),
        ...E2E_PRIVATE_ENV,
        // As the node target: short heartbeats and a small slow-consumer bound, seen in seconds.
        HEARTBEAT_MS: '1000',
        SLOW_CONSUMER_BYTES: '262144',
        ...(opts.forward ? { CLUSTER_FORWARD: opts.forward } : {}),
      }
      const launch = async () => {
        const p = spawnLogged(process.execPath, [NODE_MAIN], env)
        await waitReady(`${url}/readyz`, 15_000, p.proc, p.output)
        return p
      }
      const node: ClusterNode = {
        id,
        url,
        proc: await launch(),
        async kill() {
          const exited = new Promise((r) => node.proc.proc.once('exit', r))
          if (node.proc.proc.kill('SIGKILL')) await exited
        },
        async drain() {
          const exited = new Promise((r) => node.proc.proc.once('exit', r))
          if (node.proc.proc.kill('SIGTERM')) await exited
        },
        async start() {
          node.proc = await launch()
        },
      }
      nodes.push(node)
    }
  } catch (err) {
    await stopAll()
    throw err
  }
  return {
    name: 'node-cluster',
    url: nodes[0]!.url,
    urls: nodes.map((n) => n.url),
    apiKey,
    tokenSecret: E2E_TOKEN_SECRET,
    capabilities: { slowConsumer: true, metrics: true },
    nodes,
    ttlMs,
    redis: {
      url: redisUrl,
      async kill() {
        const exited = new Promise((r) => redisProc.proc.once('exit', r))
        if (redisProc.proc.kill('SIGKILL')) await exited
      },
      async start() {
        redisProc = await startRedis(redisPort)
      },
    },
    stop: stopAll,
  }
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

export const clusterTarget: TargetFactory = {
  name: 'node-cluster',
  async unavailable() {
    if (!existsSync(NODE_MAIN)) return `${NODE_MAIN} not built (run make build)`
    if (!hasRedisServer()) return 'redis-server not installed (run make setup)'
    return undefined
  },
  start: () => startCluster(),
}
