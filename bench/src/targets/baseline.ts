import { join } from 'node:path'
import {
  type RunningTarget,
  type StartOptions,
  type TargetKind,
  freePort,
  spawnTo,
  waitHttp,
} from './types.ts'

/** The plain `node:http` fan-out server of `src/baseline-server.ts`, built beside this tool. */
export function baselineTarget(distDir: string): TargetKind {
  return {
    name: 'baseline',
    label: 'plain node:http (baseline)',
    async unavailable() {
      return undefined
    },
    async start(opts: StartOptions): Promise<RunningTarget> {
      const port = await freePort()
      const args = opts.cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.rawDir, 'profiles')}`]
        : []
      const p = spawnTo(
        opts.rawDir,
        'baseline',
        process.execPath,
        [...args, join(distDir, 'baseline-server.js')],
        {
          HOST: '127.0.0.1',
          PORT: String(port),
        },
      )
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 10_000, p.proc)
      return {
        name: 'baseline',
        label: this.label,
        detail: `bench/src/baseline-server.ts on Node ${process.version}: res.write() per subscriber, chunked`,
        kind: 'gateway',
        apiKey: 'none',
        publishAt: [{ host: '127.0.0.1', port }],
        subscribeAt: [{ host: '127.0.0.1', port }],
        pids: p.tree,
        connectionsPerProcess: 19_000,
        stop: () => p.stop(),
      }
    },
  }
}

/**
 * The request path's reference (`src/bare-server.ts`): the least a correct `node:http` server
 * does for the gateway's job: key and topic header checked, a drop answered from the headers
 * without reading the body, one frame written to each subscriber.
 */
export function bareTarget(distDir: string): TargetKind {
  return {
    name: 'bare',
    label: 'bare node:http (reference)',
    async unavailable() {
      return undefined
    },
    async start(opts: StartOptions): Promise<RunningTarget> {
      const port = await freePort()
      const args = opts.cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${join(opts.rawDir, 'profiles')}`]
        : []
      const p = spawnTo(
        opts.rawDir,
        'bare',
        process.execPath,
        [...args, join(distDir, 'bare-server.js')],
        { HOST: '127.0.0.1', PORT: String(port), API_KEY: 'bench-key' },
      )
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 10_000, p.proc)
      return {
        name: 'bare',
        label: this.label,
        detail: `bench/src/bare-server.ts on Node ${process.version}: drop from the headers, res.write() per subscriber`,
        kind: 'gateway',
        apiKey: 'bench-key',
        publishAt: [{ host: '127.0.0.1', port }],
        subscribeAt: [{ host: '127.0.0.1', port }],
        pids: p.tree,
        connectionsPerProcess: 19_000,
        stop: () => p.stop(),
      }
    },
  }
}
