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
