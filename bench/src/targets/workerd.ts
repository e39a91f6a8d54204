import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pidsNamed } from '../proc.ts'
import {
  type RunningTarget,
  type StartOptions,
  type TargetKind,
  freePort,
  spawnTo,
  waitHttp,
} from './types.ts'

const API_KEY = 'bench-key'
const WRANGLER_ENV = {
  WRANGLER_HIDE_BANNER: 'true',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  // wrangler dev (only dev) drains unread bodies before answering: the drop path would wait.
  WRANGLER_DISABLE_REQUEST_BODY_DRAINING: 'true',
}

/**
 * Bundles the Worker once (`wrangler deploy --dry-run`) into `dir`, with a copy of its config
 * pointing at that bundle: `wrangler dev` then watches only this snapshot, and an edit in the
 * tree during a run cannot reload the Worker (which would end every open stream).
 */
function snapshot(pkg: string, wrangler: string, dir: string): string {
  const out = spawnSync(
    process.execPath,
    [wrangler, 'deploy', '--dry-run', '--outdir', join(dir, 'dist')],
    {
      cwd: pkg,
      env: { ...process.env, ...WRANGLER_ENV },
      encoding: 'utf8',
    },
  )
  if (out.status !== 0)
    throw new Error(`wrangler deploy --dry-run failed: ${out.stderr || out.stdout}`)
  // The config as it is (JSONC), beside the bundle; `wrangler dev dist/worker.js` overrides
  // its `main`. Its assets directory (./static) is copied too.
  const file = join(dir, 'wrangler.jsonc')
  cpSync(join(pkg, 'wrangler.jsonc'), file)
  mkdirSync(join(dir, 'static'), { recursive: true })
  if (existsSync(join(pkg, 'static')))
    cpSync(join(pkg, 'static'), join(dir, 'static'), { recursive: true })
  return file
}

/**
 * The Worker in local workerd: by default the way `make cf-dev` runs it (Miniflare, through
 * packages/cloudflare/scripts/dev.mjs: no dev proxy, storage in memory), or under `wrangler dev`
 * (`workerd-wrangler`, every request through wrangler's proxy Worker). Its figures say how the
 * Worker code behaves in workerd here, not what Cloudflare's network does: the report labels
 * them "local workerd".
 */
export function workerdTarget(root: string, opts: { wrangler?: boolean } = {}): TargetKind {
  const pkg = resolve(root, 'packages/cloudflare')
  const wrangler = resolve(root, 'node_modules/wrangler/bin/wrangler.js')
  const viaWrangler = opts.wrangler === true
  return {
    name: viaWrangler ? 'workerd-wrangler' : 'workerd',
    label: viaWrangler
      ? 'Worker under wrangler dev (local workerd)'
      : 'Worker in Miniflare, as make cf-dev (local workerd)',
    // One Durable Object per topic on one thread, and (under wrangler dev) every stream through
    // a proxy Worker: the quick sizes would not fit in minutes.
    sizeLimits: [
      'fanout.subscribers=100',
      'fanout.deliveriesPerBurst=50000',
      'fanout.rounds=1',
      'latency.subscribers=100',
      'manyTopics.topics=100',
      'manyTopics.publishes=1000',
      'connections.counts=1000',
    ],
    async unavailable() {
      if (!existsSync(resolve(pkg, 'wrangler.jsonc')))
        return 'packages/cloudflare is not in this tree'
      if (!existsSync(wrangler)) return 'wrangler is not installed (npm ci)'
      return undefined
    },
    async start(startOpts: StartOptions): Promise<RunningTarget> {
      return viaWrangler ? startWrangler(startOpts) : startMiniflare(startOpts)
    },
  }

  async function startMiniflare(startOpts: StartOptions): Promise<RunningTarget> {
    const port = await freePort()
    const args = [resolve(pkg, 'scripts/dev.mjs'), '--ip', '127.0.0.1', '--port', String(port)]
    args.push('--var', `API_KEYS:${API_KEY}`, '--var', 'LOG_LEVEL:warn')
    const p = spawnTo(startOpts.rawDir, 'workerd', process.execPath, args, WRANGLER_ENV, pkg)
    try {
      await waitHttp(`http://127.0.0.1:${port}/readyz`, 90_000, p.proc)
    } catch (err) {
      await p.stop()
      throw err
    }
    return {
      name: 'workerd',
      label: 'Worker in Miniflare, as make cf-dev (local workerd)',
      detail:
        "packages/cloudflare bundled once, in Miniflare 4.20260426 (workerd + Durable Objects, local; the Worker's Gateway entrypoint on workerd's own socket: no dev proxy, no Miniflare entry Worker; storage in memory), default vars but LOG_LEVEL=warn; smaller sizes (see its cases)",
      kind: 'gateway',
      apiKey: API_KEY,
      publishAt: [{ host: '127.0.0.1', port }],
      subscribeAt: [{ host: '127.0.0.1', port }],
      pids: p.tree,
      runtimePids: () => pidsNamed(p.tree(), 'workerd'),
      connectionsPerProcess: 19_000,
      stop: () => p.stop(),
    }
  }

  async function startWrangler(startOpts: StartOptions): Promise<RunningTarget> {
    const dir = mkdtempSync(join(tmpdir(), 'sse-bench-workerd-'))
    const cleanup = () => rmSync(dir, { recursive: true, force: true })
    let config: string
    try {
      spawnSync(process.execPath, [join(pkg, 'scripts/sync-admin.mjs')], {
        cwd: pkg,
        stdio: 'ignore',
      })
      config = snapshot(pkg, wrangler, dir)
    } catch (err) {
      cleanup()
      throw err
    }
    const port = await freePort()
    const inspector = await freePort()
    const args = [
      wrangler,
      'dev',
      'dist/worker.js',
      '-c',
      config,
      '--no-bundle',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
    ]
    args.push(
      '--inspector-port',
      String(inspector),
      '--persist-to',
      join(dir, 'state'),
      '--log-level',
      'warn',
    )
    args.push('--var', `API_KEYS:${API_KEY}`, '--var', 'UNREAD_BODY:hold')
    const p = spawnTo(startOpts.rawDir, 'workerd', process.execPath, args, WRANGLER_ENV, dir)
    const stop = async () => {
      await p.stop()
      cleanup()
    }
    try {
      await waitHttp(`http://127.0.0.1:${port}/readyz`, 90_000, p.proc)
    } catch (err) {
      await stop()
      throw err
    }
    return {
      name: 'workerd-wrangler',
      label: 'Worker under wrangler dev (local workerd)',
      detail:
        'packages/cloudflare bundled once, under wrangler 4.86 dev (workerd + Durable Objects, local), default vars; smaller sizes (see its cases)',
      kind: 'gateway',
      apiKey: API_KEY,
      publishAt: [{ host: '127.0.0.1', port }],
      subscribeAt: [{ host: '127.0.0.1', port }],
      pids: p.tree,
      runtimePids: () => pidsNamed(p.tree(), 'workerd'),
      connectionsPerProcess: 19_000,
      stop,
    }
  }
}
