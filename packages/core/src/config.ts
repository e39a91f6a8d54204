import { type TokenConfig, loadTokenConfig } from './private-topics.ts'

/** Every setting of the gateway, read from environment variables (docs/configuration.md). */
export interface Config {
  port: number
  host: string
  apiKeys: string[]
  /** True when API_KEYS was unset and the gateway made a random key for this run. */
  generatedKey: boolean
  redisUrl: string | undefined
  redisPrefix: string
  nodeId: string | undefined
  announceHost: string | undefined
  announceUrl: string | undefined
  nodeTtlMs: number
  /** How cluster nodes carry events to each other: HTTP to the announced address (default) or Redis pub/sub. */
  clusterForward: 'redis' | 'http'
  heartbeatMs: number
  maxTopicsPerConnection: number
  maxBodyBytes: number
  maxConnections: number
  /** Open TCP connections one remote address may hold (0: no limit). Node only. */
  maxConnectionsPerIp: number
  slowConsumerBytes: number
  /** How long each stage of a request may take (docs/security.md, "Timeouts"). */
  timeouts: Timeouts
  shutdownTimeoutMs: number
  corsOrigins: string[]
  logLevel: string
  /** Replay window per topic: events held (0 = off), their age, bytes; bytes per node (memory). */
  replay: { events: number; ageMs: number; topicBytes: number; budgetBytes: number }
  /** A topic stays live this long after its last subscriber leaves (0: the spec's drop rule). */
  lingerMs: number
  /** Cluster: a draining node keeps its topics registered this long while its clients move. */
  drainLingerMs: number
  /** Private topics and how subscriber tokens are verified (docs/private-topics.md). */
  tokens: TokenConfig
}

/** Per-stage request timeouts, in milliseconds. */
export interface Timeouts {
  /** From a request's first byte to the end of its headers (a silent new connection too). */
  headersMs: number
  /** From the end of a publish's headers to the end of its body; past it: `408`. */
  bodyMs: number
  /** An idle keep-alive connection between two requests is closed after this long. */
  keepAliveMs: number
  /** From a WebSocket upgrade request to the accepted socket; past it: `408`, closed. */
  wsHandshakeMs: number
}

export type Env = Record<string, string | undefined>

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return def
  const n = Number(raw.trim())
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(
      `${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`,
    )
  }
  return n
}

function oneOf<T extends string>(env: Env, name: string, values: readonly [T, ...T[]]): T {
  const raw = str(env, name)?.toLowerCase()
  if (raw === undefined) return values[0]
  if (!(values as readonly string[]).includes(raw)) {
    throw new Error(`${name}=${JSON.stringify(env[name])} is invalid: use ${values.join(' or ')}`)
  }
  return raw as T
}

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim()
  return v === undefined || v === '' ? undefined : v
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/** A random publisher key, for when API_KEYS is unset. */
export function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return `sk_${s}`
}

/**
 * Reads the configuration. Throws an Error naming the variable when a value is out of range, so
 * a typo fails at start-up instead of running with a surprise.
 */
export function loadConfig(env: Env): Config {
  const keys = list(env.API_KEYS)
  const generatedKey = keys.length === 0
  if (generatedKey) keys.push(randomKey())
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(
      `LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} is invalid: use ${LOG_LEVELS.join(', ')}`,
    )
  }
  const heartbeatMs = int(env, 'HEARTBEAT_MS', 15_000, 1_000, 3_600_000)
  return {
    port: int(env, 'PORT', 8787, 0, 65_535),
    // Loopback unless told otherwise: the container image and the Helm chart set 0.0.0.0.
    host: str(env, 'HOST') ?? '127.0.0.1',
    apiKeys: keys,
    generatedKey,
    redisUrl: str(env, 'REDIS_URL'),
    redisPrefix: str(env, 'REDIS_PREFIX') ?? 'sse:',
    nodeId: str(env, 'NODE_ID'),
    announceHost: str(env, 'ANNOUNCE_HOST'),
    announceUrl: str(env, 'ANNOUNCE_URL'),
    nodeTtlMs: int(env, 'NODE_TTL_MS', 15_000, 1_000, 3_600_000),
    clusterForward: oneOf(env, 'CLUSTER_FORWARD', ['http', 'redis'] as const),
    heartbeatMs,
    maxTopicsPerConnection: int(env, 'MAX_TOPICS_PER_CONNECTION', 64, 1, 1_024),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1_048_576, 1, 64 * 1_048_576),
    maxConnections: int(env, 'MAX_CONNECTIONS', 100_000, 1, 10_000_000),
    maxConnectionsPerIp: int(env, 'MAX_CONNECTIONS_PER_IP', 0, 0, 10_000_000),
    slowConsumerBytes: int(env, 'SLOW_CONSUMER_BYTES', 1_048_576, 1_024, 1_073_741_824),
    timeouts: {
      headersMs: int(env, 'HEADERS_TIMEOUT_MS', 10_000, 1_000, 600_000),
      bodyMs: int(env, 'BODY_TIMEOUT_MS', 30_000, 1_000, 3_600_000),
      keepAliveMs: int(env, 'KEEPALIVE_TIMEOUT_MS', 65_000, 1_000, 3_600_000),
      wsHandshakeMs: int(env, 'WS_HANDSHAKE_TIMEOUT_MS', 10_000, 1_000, 600_000),
    },
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    corsOrigins: list(env.CORS_ORIGINS ?? '*'),
    logLevel,
    replay: {
      events: int(env, 'REPLAY_EVENTS', 1_000, 0, 1_000_000),
      ageMs: int(env, 'REPLAY_AGE_MS', 300_000, 1_000, 86_400_000),
      topicBytes: int(env, 'REPLAY_TOPIC_BYTES', 1_048_576, 1_024, 1_073_741_824),
      budgetBytes: int(env, 'REPLAY_BUDGET_BYTES', 67_108_864, 1_024, 68_719_476_736),
    },
    lingerMs: int(env, 'LINGER_MS', 0, 0, 3_600_000),
    drainLingerMs: int(env, 'DRAIN_LINGER_MS', 10_000, 0, 600_000),
    tokens: loadTokenConfig(env),
  }
}
