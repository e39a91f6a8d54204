// The compose topology rehearsed on loopback, without Docker: a real redis-server, three real
// gateway nodes (the built bundle, each with its compose environment) and a real HAProxy running
// deploy/docker/haproxy.cfg. Only addresses are rewritten: `bind :8787` becomes a free loopback
// port, each `server gateway-N gateway-N:8787` the loopback port of node N, and Docker's DNS
// resolver is left out (the addresses are IPs). Every timeout, check and balancing rule is the
// file's own.
//
// Checks through the load balancer: /readyz; an SSE stream gets an event published through it;
// a WebSocket upgrade passes and gets an event; the node holding the stream drains on SIGTERM,
// the stream ends, and a new stream through the load balancer reaches another node and gets
// events again.
//
//   node deploy/validate/lb-rehearsal.mjs   (needs haproxy and redis-server; make build first)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { createReport, freePort, start, stop, waitFor } from './lib.mjs'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const base = createReport()
const KEY = 'lb-rehearsal-key'
const bin = (name) => [`/usr/sbin/${name}`, `/usr/bin/${name}`].find(existsSync)

function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => {
        text += d
      })
      res.on('end', () => resolve({ status: res.statusCode, body: text }))
    })
    req.on('error', reject)
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')))
    req.end(body)
  })
}

const publish = (lb, topic, id, data) =>
  call(`${lb}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'x-sse-topic': topic, 'x-sse-id': id },
    body: data,
  })

/** An SSE stream: `text` grows as bytes arrive; `ended` settles when the server ends it. */
function openSse(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      if (res.statusCode !== 200) {
        // Not a stream (a 503 page from the load balancer…): say so instead of waiting forever.
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => {
          body += d
        })
        res.on('end', () =>
          reject(new Error(`${url}: HTTP ${res.statusCode} ${body.slice(0, 200)}`)),
        )
        return
      }
      const s = { status: res.statusCode, text: '', id: res.headers['x-sse-connection-id'] }
      s.ended = new Promise((r) => res.on('close', () => r(true)))
      s.close = () => req.destroy()
      res.setEncoding('utf8')
      res.on('data', (d) => {
        s.text += d
        if (s.text.includes(': connected')) resolve(s)
      })
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('no `: connected` within 10 s')))
    req.end()
  })
}

/** A WebSocket upgrade; `text` collects the payloads of unmasked server text frames. */
function openWs(url) {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('lb-rehearsal-key').toString('base64'),
      },
    })
    req.on('upgrade', (res, socket) => {
      const s = { status: res.statusCode, text: '', close: () => socket.destroy() }
      let buf = Buffer.alloc(0)
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d])
        // Server frames are unmasked: 7-bit length, or 126 + 16-bit, or 127 + 64-bit.
        for (;;) {
          if (buf.length < 2) break
          let len = buf[1] & 0x7f
          let head = 2
          if (len === 126) {
            if (buf.length < 4) break
            len = buf.readUInt16BE(2)
            head = 4
          } else if (len === 127) {
            if (buf.length < 10) break
            len = Number(buf.readBigUInt64BE(2))
            head = 10
          }
          if (buf.length < head + len) break
          if ((buf[0] & 0x0f) === 1) s.text += buf.subarray(head, head + len).toString()
          buf = buf.subarray(head + len)
        }
      })
      resolve(s)
    })
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)))
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('no upgrade within 10 s')))
    req.end()
  })
}

/** One rehearsal, with events between nodes carried as CLUSTER_FORWARD=`forward` says. */
async function rehearse(forward) {
  const report = base.prefixed(`CLUSTER_FORWARD=${forward}: `)
  const haproxy = bin('haproxy')
  const redisServer = bin('redis-server')
  const main = join(repo, 'packages/node/dist/main.js')
  if (!haproxy || !redisServer || !existsSync(main)) {
    report.fail('rehearsal prerequisites', 'needs haproxy, redis-server and a built main.js')
    return
  }
  const compose = parse(readFileSync(join(repo, 'deploy/docker/compose.yaml'), 'utf8'), {
    merge: true,
  })
  const names = Object.keys(compose.services).filter((n) => /^gateway-\d+$/.test(n))
  const procs = []
  const dir = mkdtempSync(join(tmpdir(), 'sse-lb-'))
  try {
    const redisPort = await freePort()
    procs.push(
      start(
        redisServer,
        ['--port', `${redisPort}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {},
      ),
    )
    const nodes = []
    for (const name of names) {
      const port = await freePort()
      const env = { PATH: process.env.PATH }
      for (const [k, v] of Object.entries(compose.services[name].environment)) {
        env[k] = String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')
      }
      Object.assign(env, {
        HOST: '127.0.0.1',
        PORT: `${port}`,
        API_KEYS: KEY,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        ANNOUNCE_HOST: '127.0.0.1',
        ADMIN_UI_DIR: join(repo, 'apps/admin/dist'),
        CLUSTER_FORWARD: forward,
      })
      const proc = start(process.execPath, [main], { env })
      procs.push(proc)
      nodes.push({ name, port, proc })
    }
    for (const n of nodes) {
      const up = await waitFor(
        async () => (await call(`http://127.0.0.1:${n.port}/readyz`)).status === 200,
        20_000,
      )
      if (!report.check(`${n.name} is ready on 127.0.0.1:${n.port}`, up, n.proc.output)) return
    }

    const lbPort = await freePort()
    let cfg = readFileSync(join(repo, 'deploy/docker/haproxy.cfg'), 'utf8')
    cfg = cfg.replace(/^(\s*bind\s+)\S*:8787/m, `$1127.0.0.1:${lbPort}`)
    cfg = cfg.replace(/ resolvers docker/g, '')
    for (const n of nodes) cfg = cfg.replace(`${n.name}:8787`, `127.0.0.1:${n.port}`)
    writeFileSync(join(dir, 'haproxy.cfg'), cfg)
    const lbProc = start(haproxy, ['-db', '-f', join(dir, 'haproxy.cfg')], {})
    procs.push(lbProc)
    const lb = `http://127.0.0.1:${lbPort}`
    const ready = await waitFor(async () => (await call(`${lb}/readyz`)).status === 200, 10_000)
    if (!report.check('HAProxy (haproxy.cfg) answers /readyz from a gateway', ready, lbProc.output))
      return

    const sse = await openSse(`${lb}/sse?topic=lb-check`)
    const ws = await openWs(`http://127.0.0.1:${lbPort}/ws?topic=lb-ws`)
    report.check('a WebSocket upgrade passes through HAProxy', ws.status === 101)
    const pub = await publish(lb, 'lb-check', '1', 'through the load balancer')
    const got = await waitFor(
      async () => sse.text.includes('data: through the load balancer'),
      5_000,
    )
    report.check(
      'an SSE stream through HAProxy gets an event published through it',
      got,
      `${pub.status} ${pub.body}`,
    )
    await publish(lb, 'lb-ws', 'w1', 'ws through the load balancer')
    const gotWs = await waitFor(async () => ws.text.includes('ws through the load balancer'), 5_000)
    report.check('a WebSocket through HAProxy gets an event', gotWs, ws.text)
    ws.close()

    const list = await call(`${lb}/admin/api/connections?topic=lb-check`, {
      headers: { authorization: `Bearer ${KEY}` },
    })
    const holder = JSON.parse(list.body).items?.[0]?.node
    const victim = nodes.find((n) => n.name === holder)
    if (
      !report.check(
        `the admin API names the node holding the stream (${holder})`,
        victim,
        list.body,
      )
    )
      return
    const other = nodes.find((n) => n !== victim)
    await publish(`http://127.0.0.1:${other.port}`, 'lb-check', 'x1', `via ${other.name}`)
    const crossed = await waitFor(async () => sse.text.includes(`data: via ${other.name}`), 5_000)
    report.check(
      `an event published on ${other.name} reaches the stream held by ${holder}`,
      crossed,
    )
    const res = await stop(victim.proc, 'SIGTERM', 30_000)
    const ended = await Promise.race([sse.ended, new Promise((r) => setTimeout(r, 5_000))])
    report.check(
      `${holder} drains on SIGTERM: exit 0, the stream through HAProxy ends`,
      res.code === 0 && ended,
    )
    const again = await openSse(`${lb}/sse?topic=lb-check`)
    await publish(lb, 'lb-check', '2', 'after the drain')
    const gotAgain = await waitFor(async () => again.text.includes('data: after the drain'), 5_000)
    report.check('a new stream through HAProxy reaches a remaining node and gets events', gotAgain)
    again.close()
  } catch (err) {
    report.fail('load balancer rehearsal', err.stack ?? String(err))
  } finally {
    for (const p of procs.reverse()) await stop(p, 'SIGTERM', 10_000)
    rmSync(dir, { recursive: true, force: true })
  }
}

for (const forward of ['redis', 'http']) {
  await rehearse(forward)
}
process.exit(base.failed > 0 ? 1 : 0)
