import { type Config, loadConfig } from '@sse-gateway/core'
import type { Registry } from './registry.ts'
import type { TopicHub } from './topic-hub.ts'

/** The Worker's bindings (wrangler.jsonc) and its settings (vars and secrets, all strings). */
export interface Env {
  TOPIC_HUB: DurableObjectNamespace<TopicHub>
  REGISTRY: DurableObjectNamespace<Registry>
  ASSETS: Fetcher
  /** A secret (`wrangler secret put API_KEYS`), comma-separated; several keys allow rotation. */
  API_KEYS?: string
  HEARTBEAT_MS?: string
  MAX_TOPICS_PER_CONNECTION?: string
  MAX_BODY_BYTES?: string
  SLOW_CONSUMER_BYTES?: string
  /** Registry objects that share the connection listing (by connection id); default 1. */
  REGISTRY_SHARDS?: string
  /** An idle SSE stream gets an empty comment this often, so a client that left is noticed; default 1000, 0 = off. */
  DISCONNECT_CHECK_MS?: string
  CORS_ORIGINS?: string
  LOG_LEVEL?: string
  /** Shown as `node` in listings and stats; default `cloudflare`. */
  NODE_ID?: string
  /** Replay window per topic (docs/resume.md): events held (0 = off), their age, their bytes. */
  REPLAY_EVENTS?: string
  REPLAY_AGE_MS?: string
  REPLAY_TOPIC_BYTES?: string
  /** A topic stays live this long after its last subscriber leaves; default 0. */
  LINGER_MS?: string
}

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
  'SLOW_CONSUMER_BYTES',
  'CORS_ORIGINS',
  'LOG_LEVEL',
  'NODE_ID',
  'REPLAY_EVENTS',
  'REPLAY_AGE_MS',
  'REPLAY_TOPIC_BYTES',
  'LINGER_MS',
] as const

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

/** FNV-1a: a stable, well-spread hash of a name, to pick a registry shard. */
export function hashName(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The registry object that holds connection `id` (or the counters of a topic). */
export function registryFor(env: Env, shards: number, key: string) {
  const n = shards <= 1 ? 0 : hashName(key) % shards
  return env.REGISTRY.get(env.REGISTRY.idFromName(`registry-${n}`))
}

/** Every registry shard, for listings and stats. */
export function allRegistries(env: Env, shards: number) {
  return Array.from({ length: shards }, (_, n) =>
    env.REGISTRY.get(env.REGISTRY.idFromName(`registry-${n}`)),
  )
}

/** The topic object of `topic`: one per topic, named by the topic itself. */
export function hubFor(env: Env, topic: string) {
  return env.TOPIC_HUB.get(env.TOPIC_HUB.idFromName(topic))
}
