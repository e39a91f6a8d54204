// What `docker compose up` would need from deploy/docker/compose.yaml beyond the Compose
// schema (check-jsonschema checks that): three gateway nodes each announcing its own address,
// Redis, HAProxy routing to exactly those nodes on the port they listen on, and variables
// interpolated the way Compose does it (`${VAR:-default}`, `${VAR:?error}`).
//
//   node deploy/validate/check-compose.mjs [compose.yaml]
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { createReport } from './lib.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const file = resolve(process.argv[2] ?? join(here, '../docker/compose.yaml'))
const dir = dirname(file)
const report = createReport()

/** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?message}`. */
function interpolate(value, env) {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name, op, arg) => {
      const v = env[name]
      if (v !== undefined && v !== '') return v
      if (op === '?') throw new Error(`${name}: ${arg}`)
      return op === '-' ? arg : ''
    })
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]))
  }
  return value
}

const seconds = (d) => Number(String(d).match(/^(\d+)s$/)?.[1] ?? Number.NaN)

const raw = parse(readFileSync(file, 'utf8'), { merge: true })
try {
  interpolate(raw, {})
  report.fail('compose refuses to start without API_KEYS', 'no error without API_KEYS')
} catch (err) {
  report.check('compose refuses to start without API_KEYS', /^API_KEYS:/.test(err.message))
}
const doc = interpolate(raw, { API_KEYS: 'k' })
const services = doc.services ?? {}
const gateways = Object.keys(services).filter((n) => /^gateway-\d+$/.test(n))
report.check(`three gateway services (${gateways.join(', ')})`, gateways.length === 3)
report.check('a Redis service', services.redis?.image?.startsWith('redis:'))

const announced = new Set()
for (const name of gateways) {
  const s = services[name]
  const env = s.environment ?? {}
  announced.add(env.ANNOUNCE_HOST)
  report.check(
    `${name}: announces its own address (ANNOUNCE_HOST=${env.ANNOUNCE_HOST} = its hostname)`,
    env.ANNOUNCE_HOST === name && s.hostname === name && env.NODE_ID === name,
  )
  report.check(
    `${name}: clusters over the compose Redis (REDIS_URL=${env.REDIS_URL})`,
    env.REDIS_URL === 'redis://redis:6379' && s.depends_on?.redis?.condition === 'service_healthy',
  )
  report.check(
    `${name}: WORKERS defaults to one process (WORKERS=${env.WORKERS})`,
    env.WORKERS === '1',
  )
  report.check(
    `${name}: stop_grace_period (${s.stop_grace_period}) covers SHUTDOWN_TIMEOUT_MS (${env.SHUTDOWN_TIMEOUT_MS})`,
    seconds(s.stop_grace_period) * 1000 > Number(env.SHUTDOWN_TIMEOUT_MS),
  )
  report.check(
    `${name}: builds deploy/docker/Dockerfile from the repository root`,
    existsSync(join(dir, s.build.context, s.build.dockerfile)) &&
      existsSync(join(dir, s.build.context, 'package-lock.json')),
  )
}
report.check('every gateway announces a different address', announced.size === gateways.length)

const lb = services.lb
const mount = lb?.volumes?.find((v) => String(v).includes('haproxy.cfg'))
const cfgPath = mount && join(dir, String(mount).split(':')[0])
if (report.check('the load balancer mounts haproxy.cfg', cfgPath && existsSync(cfgPath))) {
  const cfg = readFileSync(cfgPath, 'utf8')
  const servers = [...cfg.matchAll(/^\s*server\s+(\S+)\s+([\w.-]+):(\d+)/gm)]
  const port = services[gateways[0]].environment.PORT
  report.check(
    'HAProxy balances over exactly the gateway services, on their PORT',
    servers.length === gateways.length &&
      servers.every((m) => gateways.includes(m[2]) && m[3] === port),
    servers.map((m) => `${m[2]}:${m[3]}`).join(', '),
  )
  const bind = cfg.match(/^\s*bind\s+\S*:(\d+)/m)?.[1]
  const published = String(lb.ports?.[0] ?? '').split(':')
  report.check(
    `the published port reaches HAProxy's bind port (${published.join(':')} -> ${bind})`,
    published.at(-1) === bind && published[0] === '127.0.0.1',
  )
  report.check(
    'HAProxy checks /readyz and keeps idle streams for an hour',
    /http-check send meth GET uri \/readyz/.test(cfg) &&
      /timeout server 1h/.test(cfg) &&
      /timeout tunnel 1h/.test(cfg),
  )
}
process.exit(report.failed > 0 ? 1 : 0)
