// What a cluster operator would notice in the Helm chart's rendered manifests, beyond schema
// validity (kubernetes-validate checks that): the pieces wired to each other as the gateway needs.
// ServiceMonitor, a prometheus-operator CRD that the Kubernetes schemas lack, is checked here
// against the @kubernetes-models/prometheus-operator model.
//
//   node deploy/validate/check-manifests.mjs default=<file> external=<file> full=<file> embedded=<file>
import { readFileSync } from 'node:fs'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { parseAllDocuments } from 'yaml'
import { createReport } from './lib.mjs'

const report = createReport()

function load(file) {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter((d) => d && typeof d === 'object')
}

const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v)
const byComponent = (docs, kind, component) =>
  docs.find(
    (d) => d.kind === kind && d.metadata?.labels?.['app.kubernetes.io/component'] === component,
  )
const envOf = (container) => Object.fromEntries((container?.env ?? []).map((e) => [e.name, e]))
const secretValue = (docs, name, key) => {
  const s = docs.find((d) => d.kind === 'Secret' && d.metadata.name === name)
  return s?.data?.[key] === undefined ? undefined : Buffer.from(s.data[key], 'base64').toString()
}

/** Checks every chart render shares: the gateway Deployment, its probes, drain, Service, keys. */
function checkGateway(label, docs, opts) {
  const dep = byComponent(docs, 'Deployment', 'gateway')
  if (!report.check(`${label}: a gateway Deployment is rendered`, dep)) return undefined
  const pod = dep.spec.template
  const c = pod.spec.containers[0]
  const env = envOf(c)
  report.check(`${label}: ${opts.replicas} gateway replicas`, dep.spec.replicas === opts.replicas)
  const workers = opts.workers ?? '1'
  report.check(
    `${label}: WORKERS=${workers} gateway processes per pod`,
    env.WORKERS?.value === workers,
    JSON.stringify(env.WORKERS),
  )
  report.check(
    `${label}: ANNOUNCE_HOST is the pod IP (downward API), NODE_ID the pod name`,
    env.ANNOUNCE_HOST?.valueFrom?.fieldRef?.fieldPath === 'status.podIP' &&
      env.NODE_ID?.valueFrom?.fieldRef?.fieldPath === 'metadata.name',
  )
  const http = c.ports?.find((p) => p.name === 'http')
  report.check(
    `${label}: the container port is PORT (${env.PORT?.value})`,
    http && String(http.containerPort) === env.PORT?.value,
  )
  report.check(
    `${label}: readiness on /readyz, liveness on /healthz`,
    c.readinessProbe?.httpGet?.path === '/readyz' && c.livenessProbe?.httpGet?.path === '/healthz',
  )
  const sleep = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0)
  const drainMs = Number(env.SHUTDOWN_TIMEOUT_MS?.value ?? 10_000)
  report.check(
    `${label}: the grace period (${pod.spec.terminationGracePeriodSeconds} s) covers preStop ${sleep} s + drain ${drainMs} ms`,
    pod.spec.terminationGracePeriodSeconds * 1000 > sleep * 1000 + drainMs,
  )
  report.check(
    `${label}: runs as non-root with a read-only root filesystem`,
    pod.spec.securityContext?.runAsNonRoot === true &&
      c.securityContext?.readOnlyRootFilesystem === true,
  )
  const ref = env.API_KEYS?.valueFrom?.secretKeyRef
  report.check(
    `${label}: API_KEYS comes from Secret ${opts.keysSecret}`,
    ref && `${ref.name}/${ref.key}` === opts.keysSecret,
    JSON.stringify(ref),
  )
  if (opts.keysValue) {
    const [name, key] = opts.keysSecret.split('/')
    report.check(
      `${label}: that Secret is rendered with the keys`,
      opts.keysValue.test(secretValue(docs, name, key) ?? ''),
    )
  }
  const svc = byComponent(docs, 'Service', 'gateway')
  report.check(
    `${label}: the Service selects the gateway pods on port http`,
    svc &&
      matches(svc.spec.selector, pod.metadata.labels) &&
      svc.spec.ports[0].targetPort === 'http',
  )
  const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget')
  report.check(
    `${label}: a PodDisruptionBudget covers the gateway pods`,
    pdb && matches(pdb.spec.selector.matchLabels, pod.metadata.labels),
  )
  return { dep, pod, env, svc }
}

function checkDefault(docs) {
  const g = checkGateway('default', docs, {
    replicas: 3,
    keysSecret: 'rel-sse-gateway-api-keys/api-keys',
    keysValue: /^sk_\w{40}$/,
  })
  const redis = byComponent(docs, 'Deployment', 'redis')
  const redisSvc = byComponent(docs, 'Service', 'redis')
  report.check(
    'default: built-in Redis (official image) and its Service',
    redis?.spec.template.spec.containers[0].image.startsWith('redis:') &&
      matches(redisSvc?.spec.selector, redis.spec.template.metadata.labels),
  )
  const url = g?.env.REDIS_URL?.value ?? ''
  report.check(
    'default: REDIS_URL points at the built-in Redis Service with its password',
    url === `redis://:$(REDIS_PASSWORD)@${redisSvc?.metadata.name}:6379` &&
      g.env.REDIS_PASSWORD?.valueFrom?.secretKeyRef,
    url,
  )
}

function checkExternal(docs) {
  const g = checkGateway('external Redis', docs, {
    replicas: 3,
    keysSecret: 'my-gateway-keys/keys',
  })
  report.check(
    'external Redis: no built-in Redis is rendered',
    !byComponent(docs, 'Deployment', 'redis') && !byComponent(docs, 'Service', 'redis'),
  )
  report.check(
    'external Redis: no API-key Secret is rendered (the existing one is used)',
    !docs.some((d) => d.kind === 'Secret' && d.metadata.name.endsWith('-api-keys')),
  )
  const ref = g?.env.REDIS_URL?.valueFrom?.secretKeyRef
  report.check(
    'external Redis: REDIS_URL comes from a rendered Secret holding the URL',
    ref && /^rediss?:\/\//.test(secretValue(docs, ref.name, ref.key) ?? ''),
    JSON.stringify(ref),
  )
}

function checkFull(docs) {
  const g = checkGateway('full', docs, {
    replicas: 3,
    // workers: auto with a CPU limit of 2: the limit, not the node's cores.
    workers: '2',
    keysSecret: 'rel-sse-gateway-api-keys/api-keys',
    keysValue: /^key-one,key-two$/,
  })
  const ing = docs.find((d) => d.kind === 'Ingress')
  const a = ing?.metadata.annotations ?? {}
  report.check(
    'full: the Ingress turns buffering off and allows hour-long streams',
    a['nginx.ingress.kubernetes.io/proxy-buffering'] === 'off' &&
      a['nginx.ingress.kubernetes.io/proxy-request-buffering'] === 'off' &&
      Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600,
  )
  const backend = ing?.spec.rules[0].http.paths[0].backend.service
  report.check(
    'full: the Ingress routes to the gateway Service',
    backend?.name === g?.svc?.metadata.name && backend?.port.name === 'http',
  )
  const sm = docs.find((d) => d.kind === 'ServiceMonitor')
  if (!report.check('full: a ServiceMonitor is rendered', sm)) return
  try {
    new ServiceMonitor(sm).validate()
    report.ok(
      'full: the ServiceMonitor is valid for prometheus-operator (monitoring.coreos.com/v1)',
    )
  } catch (err) {
    report.fail('full: the ServiceMonitor is valid for prometheus-operator', err.message)
  }
  report.check(
    'full: the ServiceMonitor scrapes /metrics on port http of the gateway Service',
    matches(sm.spec.selector.matchLabels, g?.svc?.metadata.labels) &&
      sm.spec.endpoints[0].port === 'http' &&
      sm.spec.endpoints[0].path === '/metrics',
  )
}

function checkEmbedded(docs) {
  const dep = byComponent(docs, 'Deployment', 'gateway')
  const env = envOf(dep?.spec.template.spec.containers[0])
  report.check(
    'embedded: one gateway pod, no Redis, no REDIS_URL, no PodDisruptionBudget',
    dep?.spec.replicas === 1 &&
      !env.REDIS_URL &&
      !byComponent(docs, 'Deployment', 'redis') &&
      !docs.some((d) => d.kind === 'PodDisruptionBudget'),
  )
}

const checks = {
  default: checkDefault,
  external: checkExternal,
  full: checkFull,
  embedded: checkEmbedded,
}
for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.split('=')
  if (!checks[label]) throw new Error(`unknown render "${label}"`)
  checks[label](load(file))
}
process.exit(report.failed > 0 ? 1 : 0)
