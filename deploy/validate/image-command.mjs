// Runs the container image's exact command natively, since no Docker engine runs here.
//
// Reads the final stage of deploy/docker/Dockerfile (ENV, WORKDIR, COPY --from=<stage>, USER,
// CMD, HEALTHCHECK), copies the same files from the repository (the build stage's WORKDIR is the
// repository root) into a temporary root, and starts CMD there with the image's environment and
// nothing else: no node_modules, no sources. Container paths become <tmp root>/<path>. Two values
// differ, by the house rule that servers here listen on loopback only: HOST=127.0.0.1 and a free
// PORT. Run as root, the process gets uid/gid 1000, the image's `node` user.
//
// Checks: /readyz answers 200, the admin UI is served, the HEALTHCHECK command passes, and
// SIGTERM drains (an open SSE stream is ended, exit code 0); then the same with REDIS_URL set
// against a real redis-server on loopback (a cluster node), when redis-server is installed.
//
//   node deploy/validate/image-command.mjs [path/to/Dockerfile]
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { basename, dirname, join, posix, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createReport, freePort, start, stop, waitFor } from './lib.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const dockerfile = resolve(process.argv[2] ?? join(repo, 'deploy/docker/Dockerfile'))
const report = createReport()

/** Splits `K=V K2="v 2"` (and the legacy `K V`) into pairs. */
function envPairs(rest) {
  const words = rest.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []
  if (words.length === 2 && !words[0].includes('=')) return [[words[0], words[1]]]
  return words.map((w) => {
    const i = w.indexOf('=')
    return [w.slice(0, i), w.slice(i + 1).replace(/^"(.*)"$/, '$1')]
  })
}

/** The stages of a Dockerfile, with what this check needs from each. */
export function parseDockerfile(text) {
  const args = {}
  const stages = []
  const lines = text
    .split(/\r?\n/)
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
  for (const line of lines.map((l) => l.trim()).filter(Boolean)) {
    const [, word, rest] = line.match(/^(\w+)\s+(.*)$/) ?? []
    const instr = word?.toUpperCase()
    if (instr === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split('=')
      args[k] = v
    } else if (instr === 'FROM') {
      const image = rest.split(/\s+/)[0].replace(/\$\{(\w+)\}/g, (_, k) => args[k] ?? '')
      const name = rest.match(/\sAS\s+(\S+)/i)?.[1]
      stages.push({ image, name, env: {}, workdir: '/', copies: [] })
    } else if (stages.length > 0) {
      const st = stages.at(-1)
      if (instr === 'ENV') for (const [k, v] of envPairs(rest)) st.env[k] = v
      else if (instr === 'WORKDIR') st.workdir = posix.resolve(st.workdir, rest)
      else if (instr === 'USER') st.user = rest
      else if (instr === 'CMD') st.cmd = JSON.parse(rest)
      else if (instr === 'HEALTHCHECK')
        st.healthcheck = JSON.parse(rest.replace(/^.*?\bCMD\s+/, ''))
      else if (instr === 'COPY') {
        const parts = rest.split(/\s+/)
        const from = parts.find((p) => p.startsWith('--from='))?.slice(7)
        const paths = parts.filter((p) => !p.startsWith('--'))
        st.copies.push({ from, srcs: paths.slice(0, -1), dest: paths.at(-1) })
      }
    }
  }
  return stages
}

/** Lays out the final stage's files under `root`, taking them from the repository. */
function stage(stages, root) {
  const final = stages.at(-1)
  for (const c of final.copies) {
    const from = stages.find((s) => s.name === c.from)
    if (!from) throw new Error(`COPY --from=${c.from}: no such stage`)
    const dest = posix.resolve(final.workdir, c.dest)
    for (const src of c.srcs) {
      const rel = posix.relative(from.workdir, src)
      if (rel.startsWith('..')) throw new Error(`${src} is outside the build stage's WORKDIR`)
      const local = join(repo, rel)
      if (!existsSync(local)) throw new Error(`${rel} is missing: run \`make build\` first`)
      const target = join(root, c.dest.endsWith('/') ? posix.join(dest, basename(src)) : dest)
      mkdirSync(dirname(target), { recursive: true })
      cpSync(local, target, { recursive: true })
    }
  }
  execFileSync('chmod', ['-R', 'a+rX,go-w', root])
  mkdirSync(join(root, final.workdir), { recursive: true })
}

function httpGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.on('error', reject)
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')))
  })
}

/** Opens an SSE stream; resolves once the `: connected` comment arrived. */
function openStream(url) {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let seen = ''
      const ended = new Promise((r) => {
        res.on('end', () => r('end'))
        res.on('close', () => r('close'))
      })
      res.setEncoding('utf8')
      res.on('data', (d) => {
        seen += d
        if (seen.includes(': connected')) resolve({ status: res.statusCode, ended })
      })
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('no `: connected` within 10 s')))
  })
}

async function runImage(final, root, label, extraEnv) {
  const mapPath = (v) => (v.startsWith('/') ? join(root, v) : v)
  const port = await freePort()
  const key = 'deploy-check-key'
  const env = { PATH: process.env.PATH }
  for (const [k, v] of Object.entries(final.env)) env[k] = mapPath(v)
  Object.assign(env, { HOST: '127.0.0.1', PORT: String(port), API_KEYS: key }, extraEnv)
  const [exe, ...args] = final.cmd
  const asNode = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : {}
  const opts = { cwd: join(root, final.workdir), env, ...asNode }
  const cmd = exe === 'node' ? process.execPath : exe
  const proc = start(cmd, args.map(mapPath), opts)
  const base = `http://127.0.0.1:${port}`
  try {
    let exited = false
    proc.exited.then(() => {
      exited = true
    })
    const ready = await waitFor(
      async () => exited || (await httpGet(`${base}/readyz`)).status === 200,
      20_000,
    )
    const name = `${label}: the image's CMD answers /readyz with 200`
    if (exited && /cluster mode is not in this build/.test(proc.output)) {
      report.skip(name, 'this build has no cluster mode yet (REDIS_URL refused at start)')
      return
    }
    if (!report.check(name, ready && !exited, proc.output)) return
    const admin = await httpGet(`${base}/admin/`)
    report.check(
      `${label}: the admin UI is served at /admin/ from ADMIN_UI_DIR`,
      admin.status === 200 && /<html/i.test(admin.body),
      `status ${admin.status}`,
    )
    if (final.healthcheck) {
      const [hExe, ...hArgs] = final.healthcheck
      const hc = start(hExe === 'node' ? process.execPath : hExe, hArgs, opts)
      const res = await stop(hc, 'SIGCONT', 10_000)
      report.check(
        `${label}: the HEALTHCHECK command passes`,
        res.code === 0,
        hc.output || JSON.stringify(res),
      )
    }
    if (extraEnv.NODE_ID) {
      const nodes = await httpGet(`${base}/admin/api/nodes`, { authorization: `Bearer ${key}` })
      report.check(
        `${label}: the node registers itself (GET /admin/api/nodes lists ${extraEnv.NODE_ID})`,
        nodes.status === 200 && nodes.body.includes(extraEnv.NODE_ID),
        `status ${nodes.status}: ${nodes.body.slice(0, 200)}`,
      )
    }
    const stream = await openStream(`${base}/sse?topic=deploy-check`).catch((e) => e)
    const res = await stop(proc, 'SIGTERM', 15_000)
    const streamEnded =
      stream instanceof Error
        ? false
        : await Promise.race([stream.ended, new Promise((r) => setTimeout(r, 5_000))])
    report.check(
      `${label}: SIGTERM drains: the open SSE stream is ended and the process exits 0`,
      res.code === 0 && Boolean(streamEnded),
      `exit ${JSON.stringify(res)}, stream ${stream instanceof Error ? stream.message : streamEnded}\n${proc.output}`,
    )
  } finally {
    await stop(proc, 'SIGKILL', 5_000)
  }
}

async function main() {
  const stages = parseDockerfile(readFileSync(dockerfile, 'utf8'))
  const final = stages.at(-1)
  report.check('the runtime stage has an exec-form CMD', Array.isArray(final.cmd), 'no CMD [...]')
  report.check('the runtime stage runs as a non-root user', final.user && final.user !== 'root')
  report.check(
    'the runtime stage has a HEALTHCHECK on /healthz',
    final.healthcheck?.join(' ').includes('/healthz'),
  )
  const major = final.image.match(/^node:(\d+)/)?.[1]
  report.check(
    `the image's Node major (${major}) is the one running here (${process.versions.node})`,
    major === process.versions.node.split('.')[0],
  )
  if (!Array.isArray(final.cmd)) return
  const root = mkdtempSync(join(tmpdir(), 'sse-image-'))
  chmodSync(root, 0o755)
  try {
    stage(stages, root)
    report.ok(
      `the runtime files (${final.copies.length} COPY lines) are laid out from the build outputs`,
    )
    await runImage(final, root, 'embedded', {})
    const redisBin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync)
    if (!redisBin) {
      console.log('# redis-server not installed: cluster-node run skipped')
      return
    }
    const rport = await freePort()
    const redis = start(
      redisBin,
      ['--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {},
    )
    try {
      await runImage(final, root, 'cluster node', {
        REDIS_URL: `redis://127.0.0.1:${rport}`,
        NODE_ID: 'deploy-check-1',
        ANNOUNCE_HOST: '127.0.0.1',
      })
    } finally {
      await stop(redis, 'SIGTERM', 10_000)
    }
  } catch (err) {
    report.fail('running the image command', err.stack ?? String(err))
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

await main()
process.exit(report.failed > 0 ? 1 : 0)
