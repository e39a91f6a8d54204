import { loadConfig, silentLogger } from '@sse-gateway/core'
import { afterEach } from 'vitest'
import { type NodeGateway, startGateway } from './server.ts'

/** The publisher key of every gateway the unit tests start. */
export const KEY = 'test-key'

/**
 * A `start(env)` that runs a gateway on a free loopback port with `env` over the defaults, and
 * closes it after each test (tests of one file share the helper).
 */
export function useTestGateway(): (env?: Record<string, string>) => Promise<NodeGateway> {
  let gw: NodeGateway | undefined
  afterEach(async () => {
    await gw?.close()
    gw = undefined
  })
  return async (env = {}) => {
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', API_KEYS: KEY, ...env })
    gw = await startGateway(config, { log: silentLogger })
    return gw
  }
}
