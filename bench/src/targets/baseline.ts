import { join } from 'node:path'
import {
  type RunningTarget,
  type StartOptions,
  type TargetKind,
  freePort,
  spawnTo,
  waitHttp,
} from './types.ts'

/** A plain `node:http` server of this tool (one file beside it), started on loopback. */
function plainServer(
  distDir: string,
  spec: { name: string; label: string; file: string; detail: string; apiKey: string },
): TargetKind {
  return {
    name: spec.name,
    label: spec.label,
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
        spec.name,
        process.execPath,
        [...args, join(distDir, spec.file)],
        {
          HOST: '127.0.0.1',
          PORT: String(port),
          API_KEY: spec.apiKey,
        },
      )
      await waitHttp(`http://127.0.0.1:${port}/healthz`, 10_000, p.proc)
      return {
        name: spec.name,
        label: spec.label,
        detail: `${spec.detail} on Node ${process.version}`,
        kind: 'gateway',
        apiKey: spec.apiKey,
        publishAt: [{ host: '127.0.0.1', port }],
        subscribeAt: [{ host: '127.0.0.1', port }],
        pids: p.tree,
        connectionsPerProcess: 19_000,
        stop: () => p.stop(),
      }
    },
  }
}

/** The plain `node:http` fan-out server of `src/baseline-server.ts`, built beside this tool. */
export function baselineTarget(distDir: string): TargetKind {
  return plainServer(distDir, {
    name: 'baseline',
    label: 'plain node:http (baseline)',
    file: 'baseline-server.js',
    detail: 'bench/src/baseline-server.ts: res.write() per subscriber, chunked,',
    apiKey: 'none',
  })
}

/**
 * The request path's reference (`src/bare-server.ts`): the least a correct `node:http` server
 * does for the gateway's job: key and topic header checked, a drop answered from the headers
 * without reading the body, one frame written to each subscriber.
 */
export function bareTarget(distDir: string): TargetKind {
  return plainServer(distDir, {
    name: 'bare',
    label: 'bare node:http (reference)',
    file: 'bare-server.js',
    detail: 'bench/src/bare-server.ts: drop from the headers, res.write() per subscriber,',
    apiKey: 'bench-key',
  })
}
