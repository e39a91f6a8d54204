import type { Config, Logger } from '@sse-gateway/core'
import type { Counters } from './connection.ts'
import { MemoryNamespace } from './memory-namespace.ts'

// Placeholder while cluster mode is being written: refuses to start rather than pretend.
export class RedisNamespace extends MemoryNamespace {
  constructor(opts: {
    config: Config
    nodeId: string
    counters: Counters
    log: Logger
    url: () => string
  }) {
    super({ nodeId: opts.nodeId, counters: opts.counters })
    throw new Error('REDIS_URL is set but cluster mode is not in this build yet')
  }
}
