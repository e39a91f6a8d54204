import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '@sse-gateway/core'
import pino from 'pino'
import { startGateway } from './server.ts'

/** Entry of `make start` and the container image: config from the environment, drain on SIGTERM. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env)
  } catch (err) {
    console.error(`sse-gateway: ${(err as Error).message}`)
    process.exit(2)
  }
  // Log lines are buffered and written at most a second late (or at 4 KiB): one write per drop
  // would cost the drop path a system call per request. Flushed before every exit below.
  const dest = pino.destination({ dest: 1, sync: false, minLength: 4096 })
  const flush = setInterval(() => dest.flush(), 1000)
  flush.unref()
  const exit = (code: number) => {
    try {
      dest.flushSync()
    } catch {
      // a write still in flight: the line after it may be lost, the exit must not be
    }
    process.exit(code)
  }
  const log = pino({ level: config.logLevel, base: { node: config.nodeId } }, dest)
  const here = dirname(fileURLToPath(import.meta.url))
  const adminDir = process.env.ADMIN_UI_DIR ?? resolve(here, '../../../apps/admin/dist')
  const gw = await startGateway(config, { log, adminDir })
  log.info(
    { url: gw.url, node: gw.backend.nodeId, mode: config.redisUrl ? 'cluster' : 'embedded' },
    'sse-gateway listening',
  )
  dest.flushSync() // the banner below comes after the start-up lines
  if (config.generatedKey) {
    log.warn('API_KEYS is unset: generated a random publisher/admin key for this run only')
    dest.flushSync()
    // Printed once, on stdout, so a person starting the gateway can use it; never logged.
    process.stdout.write(`\n  API key for this run: ${config.apiKeys[0]}\n\n`)
  }
  process.stdout.write(`  Gateway: ${gw.url}   Admin UI: ${gw.url}/admin/\n\n`)

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
