import type { RegistryApi, TopicHubApi } from './rpc.ts'

/** The Worker's bindings (wrangler.jsonc) and its settings (vars and secrets, all strings). */
export interface Env {
  TOPIC_HUB: DurableObjectNamespace<TopicHubApi>
  REGISTRY: DurableObjectNamespace<RegistryApi>
  ASSETS: Fetcher
  /** A secret (`wrangler secret put API_KEYS`), comma-separated; several keys allow rotation. */
  API_KEYS?: string
  HEARTBEAT_MS?: string
  MAX_TOPICS_PER_CONNECTION?: string
  MAX_BODY_BYTES?: string
  BODY_TIMEOUT_MS?: string
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
  /** What happens to a request body left unread (src/unread-body.ts): `drain` (default) or `hold` (wrangler dev). */
  UNREAD_BODY?: string
  /** Topics that need a subscriber token (docs/private-topics.md): `name`, `prefix*`, `*`. */
  PRIVATE_TOPICS?: string
  /** A secret: HMAC key(s) that verify subscriber tokens, comma-separated (rotation). */
  TOKEN_SECRET?: string
  /** A PEM public key (SPKI) that verifies RS/ES/EdDSA subscriber tokens. */
  TOKEN_PUBLIC_KEY?: string
  TOKEN_ISSUER?: string
  TOKEN_AUDIENCE?: string
  /** The cookie a browser's subscriber token travels in; default `sse_token`. */
  TOKEN_COOKIE?: string
  /** Where the admin console's header links for the docs. */
  DOCS_URL?: string
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
