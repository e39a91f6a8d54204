// The Worker in local workerd through Miniflare, without what `wrangler dev` adds on top: no
// proxy Worker in front of it, no request log, no local explorer, no file watching, and Durable
// Object storage in memory (fresh on every start) unless --persist-to is given. The port serves
// the Worker's `Gateway` entrypoint directly (src/worker.ts), as production runs a Worker with
// `run_worker_first`: Miniflare's own entry and asset-router Workers, which would run before it
// on every request, are left out.
//
//   node scripts/dev.mjs [--ip 127.0.0.1] [--port 8787] [--persist-to DIR]
//                        [--env-file FILE] [--var NAME:value]...
//
// Settings come from wrangler.jsonc (vars, Durable Objects, static assets, compatibility), then
// --env-file (NAME=value lines: secrets such as API_KEYS), then each --var. The bundle is made
// once at start (`wrangler deploy --dry-run`, as for a deploy): restart after an edit.
// Prints `ready <url>` on stdout once it serves. Stops on SIGINT or SIGTERM.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Log, LogLevel, Miniflare } from 'miniflare'
import { unstable_getMiniflareWorkerOptions } from 'wrangler'

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const config = join(pkg, 'wrangler.jsonc')

const { values } = parseArgs({
  options: {
    ip: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8787' },
    'persist-to': { type: 'string' },
    'env-file': { type: 'string' },
    var: { type: 'string', multiple: true, default: [] },
  },
})

/** NAME=value lines; `#` comments and blank lines ignored. */
function readEnvFile(file) {
  const out = {}
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line)
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1')
  }
  return out
}

const overrides = values['env-file'] ? readEnvFile(values['env-file']) : {}
for (const v of values.var) {
  const at = v.indexOf(':')
  if (at < 1) throw new Error(`--var ${v}: expected NAME:value`)
  overrides[v.slice(0, at)] = v.slice(at + 1)
}

const quiet = {
  ...process.env,
  WRANGLER_HIDE_BANNER: 'true',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
}
const work = mkdtempSync(join(tmpdir(), 'sse-gateway-dev-'))
const bundle = spawnSync(
  process.execPath,
  [join(pkg, '../../node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run'].concat([
    '--outdir',
    join(work, 'dist'),
  ]),
  { cwd: pkg, env: quiet, encoding: 'utf8' },
)
if (bundle.status !== 0) {
  rmSync(work, { recursive: true, force: true })
  process.stderr.write(bundle.stderr || bundle.stdout)
  process.exit(1)
}

const { workerOptions } = unstable_getMiniflareWorkerOptions(config)
const mf = new Miniflare({
  ...workerOptions,
  name: 'sse-gateway',
  modules: true,
  scriptPath: join(work, 'dist/worker.js'),
  modulesRoot: join(work, 'dist'),
  cf: false, // no look-up of Cloudflare's `Request.cf` sample (offline, and not needed)
  bindings: { ...workerOptions.bindings, ...overrides },
  // Miniflare's own entry socket (a free loopback port, unused): requests go to the one below.
  host: '127.0.0.1',
  port: 0,
  unsafeDirectSockets: [{ host: values.ip, port: Number(values.port), entrypoint: 'Gateway' }],
  logRequests: false,
  durableObjectsPersist: values['persist-to'] ? resolve(values['persist-to'], 'do') : false,
  log: new Log(LogLevel.WARN),
})

let stopping = false
async function stop(code) {
  if (stopping) return
  stopping = true
  await mf.dispose().catch(() => {})
  rmSync(work, { recursive: true, force: true })
  process.exit(code)
}
process.on('SIGINT', () => void stop(130))
process.on('SIGTERM', () => void stop(143))

try {
  await mf.ready
  const url = await mf.unsafeGetDirectURL(undefined, 'Gateway')
  process.stdout.write(`ready ${url.href}\n`)
} catch (err) {
  process.stderr.write(`could not start workerd: ${err?.message ?? err}\n`)
  await stop(1)
}
