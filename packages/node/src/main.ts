import cluster from 'node:cluster'
import { createPublicKey } from 'node:crypto'
import type { Server } from 'node:http'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '@sse-gateway/core'
import pino from 'pino'
import { framedInfo } from './framed-log.ts'
import { batchedDestination } from './log-destination.ts'
import { defaultNodeId, startGateway } from './server.ts'
import { parseWorkers, runPrimary, workerNodeId } from './workers-primary.ts'

/** One clear line for the start-up errors a person can fix (port taken, address not here). */
function listenError(err: unknown, host: string, port: number): string | undefined {
  const code = (err as { code?: string } | null)?.code
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  if (code === 'EADDRINUSE') {
    return `cannot listen on ${where}: the port is in use by another process (stop it, or set PORT)`
  }
  if (code === 'EACCES') {
    return `cannot listen on ${where}: permission denied (ports below 1024 need privileges; set PORT)`
  }
  if (code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${where}: HOST is not an address of this machine (set HOST)`
  }
  return undefined
}

/** Where the server listens, for the banner: the address and who can reach it. */
function describeListen(
  addr: ReturnType<Server['address']>,
  host: string,
): { address: string; reach: string; loopback: boolean } {
  const ip = addr && typeof addr === 'object' ? addr.address : host
  const port = addr && typeof addr === 'object' ? addr.port : 0
  const address = `${ip.includes(':') ? `[${ip}]` : ip}:${port}`
  if (ip === '0.0.0.0' || ip === '::') {
    return { address, reach: 'every network interface', loopback: false }
  }
  if (ip.startsWith('127.') || ip === '::1') {
    return { address, reach: 'this machine only; HOST=0.0.0.0 for every interface', loopback: true }
  }
  return { address, reach: 'this address only', loopback: false }
}

/**
 * TOKEN_PUBLIC_KEY is only parsed when the first token signed with it arrives: check it now, so
 * that a key pasted wrong is a start-up error naming the setting, not a 401 for every subscriber.
 */
function checkPublicKey(pem: string | undefined): void {
  if (pem === undefined) return
  try {
    // createPublicKey would derive a public key from a private one: a private key is refused.
    if (pem.includes('PRIVATE KEY')) throw new Error('this is a private key; give its public key')
    const key = createPublicKey({ key: pem, format: 'pem' })
    if (key.type !== 'public') throw new Error(`a ${key.type} key`)
  } catch (err) {
    throw new Error(
      `TOKEN_PUBLIC_KEY is not a PEM public key (-----BEGIN PUBLIC KEY-----): ${(err as Error).message}`,
    )
  }
}

function printGeneratedKey(
  log: pino.Logger,
  dest: ReturnType<typeof batchedDestination>,
  key: string,
): void {
  log.warn('API_KEYS is unset: generated a random publisher/admin key for this run only')
  dest.flushSync()
  // Printed once, on stdout, so a person starting the gateway can use it; never logged.
  process.stdout.write(`\n  API key for this run: ${key}\n\n`)
}

function printBanner(
  listening: { address: string; reach: string },
  url: string,
  mode?: string,
): void {
  process.stdout.write(`  Listening on ${listening.address} (${listening.reach})\n`)
  if (mode) process.stdout.write(`  Mode: ${mode}\n`)
  process.stdout.write(`  Gateway: ${url}   Admin UI: ${url}/admin/\n\n`)
}

/**
 * WORKERS=N (N > 1): this process forks N workers sharing the port and, without Redis, is the
 * host's directory and sequencer; it serves no request itself.
 */
function primary(
  config: ReturnType<typeof loadConfig>,
  count: number,
  dest: ReturnType<typeof batchedDestination>,
  exit: (code: number) => void,
): void {
  const baseNodeId = config.nodeId ?? defaultNodeId()
  const log = pino({ level: config.logLevel, base: { node: baseNodeId } }, dest)
  const mode = config.redisUrl ? 'cluster' : 'workers'
  // Every worker must take the same key: a generated one is made here and handed down.
  const env: Record<string, string> = config.generatedKey
    ? { API_KEYS: config.apiKeys[0] as string }
    : {}
  if (config.redisUrl) {
    // The workers share one address: a node-to-node HTTP forward could land on any of them.
    if (process.env.CLUSTER_FORWARD?.trim() === 'http') {
      console.error(
        'sse-gateway: CLUSTER_FORWARD=http needs one process per address; with WORKERS > 1 the workers share the port (leave CLUSTER_FORWARD unset: they forward through Redis)',
      )
      exit(2)
      return
    }
    env.CLUSTER_FORWARD = 'redis'
  }
  runPrimary({
    config,
    count,
    baseNodeId,
    log,
    directory: !config.redisUrl,
    env,
    exit,
    onListening: (address, port) => {
      const host = address === '' ? config.host : address
      const listening = describeListen({ address: host, port, family: '' }, config.host)
      const scheme = host.includes(':') ? `[${host}]` : host
      const url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : scheme}:${port}`
      log.info({ url, listen: listening.address, mode, workers: count }, 'sse-gateway listening')
      dest.flushSync()
      if (config.generatedKey) printGeneratedKey(log, dest, config.apiKeys[0] as string)
      const what = config.redisUrl ? 'each a cluster node (Redis)' : 'one host, no Redis'
      printBanner(listening, url, `workers (WORKERS=${count}), ${what}`)
    },
  })
}

/** Entry of `make start` and the container image: config from the environment, drain on SIGTERM. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  let workers: number
  try {
    config = loadConfig(process.env)
    checkPublicKey(config.tokens.publicKey)
    workers = parseWorkers(process.env.WORKERS)
  } catch (err) {
    console.error(`sse-gateway: ${(err as Error).message}`)
    process.exit(2)
  }
  // Log lines are buffered and written at most a second late (or at 16 KiB): one write per drop
  // would cost the drop path a system call per request. Flushed before every exit below.
  const dest = batchedDestination(1)
  const exit = (code: number) => {
    try {
      dest.flushSync()
    } catch {
      // a write still in flight: the line after it may be lost, the exit must not be
    }
    process.exit(code)
  }
  if (cluster.isPrimary && workers > 1) {
    primary(config, workers, dest, exit)
    return
  }
  const worker = cluster.worker
  if (worker) {
    // One node per worker: `<host's node id>-w<cluster worker id>` (a replacement's id is new).
    const base = process.env.SSE_GATEWAY_WORKER_BASE ?? config.nodeId ?? defaultNodeId()
    config = { ...config, nodeId: workerNodeId(base, worker.id) }
  }
  const mode = config.redisUrl ? 'cluster' : worker ? 'workers' : 'embedded'
  const log = pino({ level: config.logLevel, base: { node: config.nodeId } }, dest)
  const here = dirname(fileURLToPath(import.meta.url))
  const adminDir = process.env.ADMIN_UI_DIR ?? resolve(here, '../../../apps/admin/dist')
  let gw: Awaited<ReturnType<typeof startGateway>>
  try {
    // The gateway's info lines with flat fields (one per drop) framed without pino's serializer.
    gw = await startGateway(config, {
      log: framedInfo(log, dest),
      adminDir,
      docsUrl: process.env.DOCS_URL,
    })
  } catch (err) {
    const line = listenError(err, config.host, config.port)
    if (!line) throw err
    console.error(`sse-gateway: ${line}`)
    process.exit(2)
  }
  const listening = describeListen(gw.server.address(), config.host)
  log.info(
    {
      url: gw.url,
      listen: listening.address,
      node: gw.backend.nodeId,
      mode,
      ...(worker ? { pid: process.pid } : {}),
    },
    worker ? 'worker listening' : 'sse-gateway listening',
  )
  if (config.redisUrl && listening.loopback && !config.announceHost && !config.announceUrl) {
    log.warn(
      'cluster node listening on loopback only: nodes on other machines cannot reach it (set HOST=0.0.0.0 and ANNOUNCE_HOST)',
    )
  }
  dest.flushSync() // the banner below comes after the start-up lines
  if (!worker) {
    if (config.generatedKey) printGeneratedKey(log, dest, config.apiKeys[0] as string)
    printBanner(listening, gw.url)
  }

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'draining')
    gw.close().then(
      () => {
        log.info('stopped')
        exit(0)
      },
      (err: unknown) => {
        log.error({ err }, 'drain failed')
        exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  console.error('sse-gateway failed to start:', err)
  process.exit(1)
})
