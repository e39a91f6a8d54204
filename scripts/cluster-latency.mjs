#!/usr/bin/env node
// Publish → deliver latency, single node vs. cluster (both forwarding transports), on loopback.
//   node scripts/cluster-latency.mjs [events=2000]
//   GATEWAY_MAIN=<path to another build's main.js> node scripts/cluster-latency.mjs (before/after)
// Starts its own redis-server and gateways (packages/node/dist/main.js) on free ports, then for
// each setup publishes `events` events one at a time (keep-alive publisher) and times each from
// just before the POST until the subscriber has parsed the frame. Prints a Markdown table and
// the raw figures as JSON.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { createServer } from 'node:net'
import { resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')
const MAIN = resolve(process.env.GATEWAY_MAIN ?? resolve(ROOT, 'packages/node/dist/main.js'))
const EVENTS = Number(process.argv[2] ?? 2000)
const WARMUP = 200
const KEY = 'latency-key'
const children = []

const freePort = (host = '127.0.0.1') =>
  new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, host, () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
  })

function start(cmd, args, env = {}) {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (b) => {
    out += b
  }
  p.stdout.on('data', keep)
  p.stderr.on('data', keep)
  children.push(p)
  return { p, out: () => out }
}

async function until(pred, what, ms = 15_000) {
  const deadline = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function redisServer() {
  const port = await freePort()
  const r = start('redis-server', [
    '--port',
    `${port}`,
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ])
  await until(() => r.out().includes('Ready to accept connections'), 'redis-server')
  return `redis://127.0.0.1:${port}`
}

async function gateway(host, env) {
  const port = await freePort(host)
  start(process.execPath, [MAIN], {
    HOST: host,
    PORT: `${port}`,
    API_KEYS: KEY,
    LOG_LEVEL: 'warn',
    ...env,
  })
  const url = `http://${host}:${port}`
  await until(
    () =>
      fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    `${url} ready`,
  )
  return url
}

/** An SSE subscriber that resolves the waiter of each id as its frame is parsed. */
function subscribe(url, topic) {
  const waiters = new Map()
  return new Promise((res, rej) => {
    http
      .get(`${url}/sse?topic=${topic}`, { agent: false }, (resp) => {
        resp.setEncoding('utf8')
        let buf = ''
        resp.on('data', (chunk) => {
          buf += chunk
          for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
            const frame = buf.slice(0, i)
            buf = buf.slice(i + 2)
            if (frame.startsWith(': connected')) res({ waiters })
            // The SSE id is `<publisher id>~<resume cursor>`: the waiter is keyed by the first.
            const m = /^id: ([^~\n]*)/m.exec(frame)
            if (m) waiters.get(m[1])?.(performance.now())
          }
        })
      })
      .on('error', rej)
  })
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
function publish(url, topic, id) {
  return new Promise((res, rej) => {
    const req = http.request(
      `${url}/publish`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${KEY}`,
          'x-sse-topic': topic,
          'x-sse-id': id,
          'content-length': 11,
        },
      },
      (resp) => {
        resp.resume()
        resp.on('end', () =>
          resp.statusCode === 202 ? res() : rej(new Error(`HTTP ${resp.statusCode}`)),
        )
      },
    )
    req.on('error', rej)
    req.end('hello world')
  })
}

async function measure(name, pubUrl, subUrl) {
  const topic = `lat-${name.replace(/\W+/g, '-')}`
  const { waiters } = await subscribe(subUrl, topic)
  const samples = []
  for (let i = 0; i < EVENTS + WARMUP; i++) {
    const id = `${i}`
    const got = new Promise((r) => waiters.set(id, r))
    const t0 = performance.now()
    await publish(pubUrl, topic, id)
    const t1 = await got
    waiters.delete(id)
    if (i >= WARMUP) samples.push(t1 - t0)
  }
  samples.sort((a, b) => a - b)
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  return {
    name,
    events: samples.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    mean,
    max: samples.at(-1),
  }
}

async function main() {
  const results = []
  const single = await gateway('127.0.0.1', {})
  results.push(await measure('single node (embedded)', single, single))
  for (const forward of ['redis', 'http']) {
    const redisUrl = await redisServer()
    const env = { REDIS_URL: redisUrl, CLUSTER_FORWARD: forward, REDIS_PREFIX: `lat-${forward}:` }
    const a = await gateway('127.0.0.2', { ...env, NODE_ID: `a-${forward}` })
    const b = await gateway('127.0.0.3', { ...env, NODE_ID: `b-${forward}` })
    results.push(await measure(`cluster, same node (${forward})`, a, a))
    results.push(await measure(`cluster, cross-node (${forward})`, a, b))
  }
  const ms = (x) => x.toFixed(2)
  console.log(
    `\n| setup | events | p50 ms | p90 ms | p99 ms | mean ms | max ms |\n| --- | --- | --- | --- | --- | --- | --- |`,
  )
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.events} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.mean)} | ${ms(r.max)} |`,
    )
  }
  console.log(`\n${JSON.stringify({ node: process.version, main: MAIN, events: EVENTS, results })}`)
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => {
    agent.destroy()
    for (const c of children) c.kill('SIGTERM')
  })
