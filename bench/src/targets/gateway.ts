import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import type { Endpoint } from '../types.ts'
import {
  type RunningTarget,
  type Spawned,
  type StartOptions,
  type TargetKind,
  freePort,
  spawnTo,
  waitHttp,
} from './types.ts'

const API_KEY = 'bench-key'
/** The cluster's nodes, as `make cluster` and the e2e cluster target place them. */
const NODE_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4']

/**
 * The gateway bundle: packages/node/dist/main.js, or BENCH_NODE_MAIN (another build of it, to
 * measure a change against the code before it in one run: see docs/benchmarks.md).
 */
function gatewayMain(root: string): string {
  return resolve(root, process.env.BENCH_NODE_MAIN ?? 'packages/node/dist/main.js')
}

/** Starts one gateway process with the production defaults, but for the address and key. */
async function startNode(
  root: string,
  opts: StartOptions,
  logName: string,
  host: string,
  env: Record<string, string>,
  main = gatewayMain(root),
): Promise<{ p: Spawned; ep: Endpoint }> {
  const port = await freePort(host)
  // WORKERS: the workers inherit these flags, so each profile keeps Node's default name (it
  // holds the process id) instead of overwriting the primary's.
  const prof = opts.cpuProfile
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${join(opts.rawDir, 'profiles', env.WORKERS ? logName : '')}`,
        ...(env.WORKERS ? [] : [`--cpu-prof-name=${logName}.cpuprofile`]),
      ]
    : []
  const p = spawnTo(opts.rawDir, logName, process.execPath, [...prof, main], {
    HOST: host,
    PORT: String(port),
    API_KEYS: API_KEY,
    ...env,
  })
  await waitHttp(`http://${host}:${port}/readyz`, 20_000, p.proc)
  return { p, ep: { host, port } }
}

/**
 * The Node gateway, one process, embedded mode (`make start`). `replayOff`: the same with the
 * replay window switched off (REPLAY_EVENTS=0), to measure what the window costs in one run.
 * `before`: the bundle named by BENCH_BEFORE_MAIN (a build of an earlier commit), to measure a
 * change against the code before it in one run.
 */
export function nodeTarget(
  root: string,
  variant: { replayOff?: boolean; before?: boolean; workers?: number } = {},
): TargetKind {
  const name = variant.replayOff
    ? 'node-replay-off'
    : variant.before
      ? 'node-before'
      : variant.workers
        ? `node-w${variant.workers}`
        : 'node'
  const label = variant.replayOff
    ? 'Node gateway, replay window off'
    : variant.before
      ? 'Node gateway, the build before (BENCH_BEFORE_MAIN)'
      : variant.workers
        ? `Node gateway, WORKERS=${variant.workers} (one host, no Redis)`
        : 'Node gateway (single node)'
  const main = () => {
    const before = process.env.BENCH_BEFORE_MAIN
    return variant.before && before ? resolve(root, before) : gatewayMain(root)
  }
  return {
    name,
    label,
    async unavailable() {
      if (variant.before && !process.env.BENCH_BEFORE_MAIN) return 'BENCH_BEFORE_MAIN is not set'
      return existsSync(main()) ? undefined : `${main()} is not built`
    },
    async start(opts) {
      const env: Record<string, string> = { NODE_ID: 'bench' }
      if (variant.replayOff) env.REPLAY_EVENTS = '0'
      if (variant.workers) env.WORKERS = String(variant.workers)
      const { p, ep } = await startNode(root, opts, name, '127.0.0.1', env, main())
      return {
        name,
        label,
        detail: `${relative(root, main())} on Node ${process.version}, ${variant.workers ? `WORKERS=${variant.workers} (a primary and ${variant.workers} workers)` : 'embedded mode'}, ${variant.replayOff ? 'REPLAY_EVENTS=0, otherwise ' : ''}default settings`,
        kind: 'gateway',
        apiKey: API_KEY,
        publishAt: [ep],
        subscribeAt: [ep],
        pids: p.tree,
        connectionsPerProcess: 19_000,
        stop: () => p.stop(),
      } satisfies RunningTarget
    },
  }
}

/** Three gateway nodes on 127.0.0.2-4 and one redis-server (`make cluster`). */
export function clusterTarget(root: string): TargetKind {
  return {
    name: 'node-cluster',
    label: 'Node gateway (3-node cluster + Redis)',
    async unavailable() {
      if (!existsSync(gatewayMain(root))) return 'packages/node/dist/main.js is not built'
      if (!existsSync(resolve(root, 'packages/node/src/redis-namespace.ts'))) {
        return 'cluster mode is not in this tree'
      }
      const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
      return r.status === 0 ? undefined : 'redis-server is not installed'
    },
    async start(opts) {
      const redisPort = await freePort()
      const redis = spawnTo(
        opts.rawDir,
        'redis',
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {},
      )
      const started: Spawned[] = [redis]
      const eps: Endpoint[] = []
      try {
        await waitRedis(redisPort, redis)
        for (const [i, host] of NODE_HOSTS.entries()) {
          const { p, ep } = await startNode(root, opts, `cluster-${'abc'[i]}`, host, {
            NODE_ID: `node-${'abc'[i]}`,
            REDIS_URL: `redis://127.0.0.1:${redisPort}`,
          })
          started.push(p)
          eps.push(ep)
        }
      } catch (err) {
        await Promise.all(started.map((p) => p.stop()))
        throw err
      }
      // BENCH_CLUSTER_SUBSCRIBE: where subscribers connect. all (default): round-robin over the
      // three nodes; same: node-a, the publishing node, only; other: node-b only (every event
      // crosses nodes).
      const where = process.env.BENCH_CLUSTER_SUBSCRIBE ?? 'all'
      const subscribeAt =
        where === 'same' ? [eps[0] as Endpoint] : where === 'other' ? [eps[1] as Endpoint] : eps
      const subscribers =
        where === 'same'
          ? 'subscribers on node-a'
          : where === 'other'
            ? 'subscribers on node-b'
            : ''
      return {
        name: 'node-cluster',
        label: this.label,
        detail: `3 × packages/node/dist/main.js on ${NODE_HOSTS.join(', ')} + redis-server; publishes go to node-a${subscribers ? `, ${subscribers}` : ''}`,
        kind: 'gateway',
        apiKey: API_KEY,
        publishAt: [eps[0] as Endpoint],
        subscribeAt,
        pids: () => started.flatMap((p) => p.tree()),
        connectionsPerProcess: 19_000,
        stop: async () => {
          await Promise.all(started.slice(1).map((p) => p.stop()))
          await redis.stop()
        },
      } satisfies RunningTarget
    },
  }
}

async function waitRedis(port: number, p: Spawned): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (p.proc.exitCode !== null) throw new Error('redis-server exited at start')
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' })
    if (r.stdout?.trim() === 'PONG') return
    await new Promise((res) => setTimeout(res, 100))
  }
  throw new Error(`redis-server did not answer on port ${port}`)
}
