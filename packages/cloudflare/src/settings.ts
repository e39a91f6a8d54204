import { type Config, loadConfig } from '@sse-gateway/core'
import type { Env } from './env.ts'

/** The settings the Worker and its objects read, parsed once per isolate. */
export interface Settings extends Config {
  registryShards: number
  disconnectCheckMs: number
  nodeName: string
  /** False when API_KEYS is unset: a Worker cannot print a generated key to anyone. */
  keysConfigured: boolean
}

const KEYS = [
  'API_KEYS',
  'HEARTBEAT_MS',
  'MAX_TOPICS_PER_CONNECTION',
  'MAX_BODY_BYTES',
  'BODY_TIMEOUT_MS',
  'SLOW_CONSUMER_BYTES',
  'CORS_ORIGINS',
  'LOG_LEVEL',
  'NODE_ID',
  'REPLAY_EVENTS',
  'REPLAY_AGE_MS',
  'REPLAY_TOPIC_BYTES',
  'LINGER_MS',
  'PRIVATE_TOPICS',
  'TOKEN_SECRET',
  'TOKEN_PUBLIC_KEY',
  'TOKEN_ISSUER',
  'TOKEN_AUDIENCE',
  'TOKEN_COOKIE',
] as const

const cache = new WeakMap<Env, Settings>()

/** The settings of these bindings, read once per isolate (every object and request shares them). */
export function settingsOf(env: Env): Settings {
  let s = cache.get(env)
  if (!s) {
    s = readSettings(env)
    cache.set(env, s)
  }
  return s
}

/**
 * Reads the settings from the bindings. Throws an Error naming the variable when a value is out
 * of range (the same checks as `make start`).
 */
export function readSettings(env: Env): Settings {
  const vars: Record<string, string | undefined> = {}
  for (const k of KEYS) vars[k] = typeof env[k] === 'string' ? env[k] : undefined
  const config = loadConfig(vars)
  const rawShards = env.REGISTRY_SHARDS?.trim() || '1'
  const registryShards = Number(rawShards)
  if (!Number.isInteger(registryShards) || registryShards < 1 || registryShards > 64) {
    throw new Error(`REGISTRY_SHARDS=${JSON.stringify(rawShards)} is invalid: expected 1 to 64`)
  }
  const rawCheck = env.DISCONNECT_CHECK_MS?.trim() || '1000'
  const disconnectCheckMs = Number(rawCheck)
  if (
    !Number.isInteger(disconnectCheckMs) ||
    disconnectCheckMs < 0 ||
    disconnectCheckMs > 3_600_000
  ) {
    throw new Error(
      `DISCONNECT_CHECK_MS=${JSON.stringify(rawCheck)} is invalid: expected an integer from 0 to 3600000`,
    )
  }
  return {
    ...config,
    registryShards,
    disconnectCheckMs,
    nodeName: config.nodeId ?? 'cloudflare',
    keysConfigured: !config.generatedKey,
  }
}
