import {
  type CryptoKey,
  type JWTPayload,
  decodeProtectedHeader,
  errors,
  importSPKI,
  jwtVerify,
} from 'jose'
import { GatewayError } from './errors.ts'
import { quote } from './topics.ts'

/**
 * Private topics (opt in): which topics need a signed subscriber token, and how tokens are
 * verified. Without `PRIVATE_TOPICS` every topic is public and subscribers stay anonymous, as
 * the product specification says; tokens are then not even looked at.
 */
export interface TokenConfig {
  /** Patterns of the topics that need a token: `name`, `prefix*`, or `*` (all). Empty: none. */
  privateTopics: string[]
  /** HMAC secrets (HS256/384/512); any of them verifies (rotation). */
  secrets: string[]
  /** A PEM public key (SPKI) for RS256/ES256/EdDSA tokens. */
  publicKey: string | undefined
  issuer: string | undefined
  audience: string | undefined
  /** The cookie a browser's token travels in (EventSource cannot set headers). */
  cookie: string
}

/** A pattern of `PRIVATE_TOPICS` or of a token's `topics` claim: `a`, `user:42:*`, `*`. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern.endsWith('*')) return topic.startsWith(pattern.slice(0, -1))
  return pattern === topic
}

const PATTERN = /^[A-Za-z0-9\-_.:@/]{0,128}\*?$/

/** Reads `PRIVATE_TOPICS` and the `TOKEN_*` settings; throws naming the variable. */
export function loadTokenConfig(env: Record<string, string | undefined>): TokenConfig {
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  const privateTopics = list(env.PRIVATE_TOPICS)
  for (const p of privateTopics) {
    if (!PATTERN.test(p) || p === '') {
      throw new Error(
        `PRIVATE_TOPICS has an invalid pattern ${JSON.stringify(p)}: use a topic name, a prefix ending in *, or *`,
      )
    }
  }
  const secrets = list(env.TOKEN_SECRET)
  const publicKey = env.TOKEN_PUBLIC_KEY?.trim() || undefined
  if (privateTopics.length > 0 && secrets.length === 0 && publicKey === undefined) {
    throw new Error(
      'PRIVATE_TOPICS is set but neither TOKEN_SECRET nor TOKEN_PUBLIC_KEY is: no token could be verified',
    )
  }
  for (const s of secrets) {
    if (s.length < 32) {
      throw new Error('TOKEN_SECRET is too short: use at least 32 characters (256 bits for HS256)')
    }
  }
  const cookie = env.TOKEN_COOKIE?.trim() || 'sse_token'
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookie)) {
    throw new Error(
      `TOKEN_COOKIE=${JSON.stringify(env.TOKEN_COOKIE)} is invalid: use A-Z a-z 0-9 _ -`,
    )
  }
  return {
    privateTopics,
    secrets,
    publicKey,
    issuer: env.TOKEN_ISSUER?.trim() || undefined,
    audience: env.TOKEN_AUDIENCE?.trim() || undefined,
    cookie,
  }
}

/** Where a subscribe request may carry its token. */
export interface TokenSource {
  header(name: string): string | null | undefined
  query(name: string): string | null | undefined
}

/** What a subscription was granted: when its token expires (undefined: no token needed). */
export interface Grant {
  /** Milliseconds since the epoch; at that moment the stream ends with `gateway.token-expired`. */
  expiresAt: number | undefined
  /** The requested topics that are private (what `gateway.token-expired` names). */
  privateTopics: string[]
}

/** Why a subscription was refused, for the metrics. */
export type RefusalReason = 'unauthorized' | 'forbidden'

const HMAC = ['HS256', 'HS384', 'HS512']
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA']
const MAX_TOKEN = 8192

function tokenOf(src: TokenSource, cookieName: string): string | undefined {
  const q = src.query('token')
  if (q) return q
  const auth = src.header('authorization')
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim()
  const cookies = src.header('cookie')
  if (!cookies) return undefined
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === cookieName) {
      const v = part.slice(eq + 1).trim()
      try {
        return decodeURIComponent(v)
      } catch {
        return v
      }
    }
  }
  return undefined
}

function refused(reason: RefusalReason, message: string): GatewayError {
  return new GatewayError(reason, message)
}

/** The token's problem in words, never the token itself. */
function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) {
    const exp = (err.payload as JWTPayload).exp
    return exp === undefined
      ? 'subscriber token expired'
      : `subscriber token expired at ${new Date(exp * 1000).toISOString()}`
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return 'subscriber token signature does not verify'
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `subscriber token claim "${err.claim}" is invalid (${err.reason})`
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'subscriber token algorithm not accepted'
  return 'subscriber token is malformed'
}

/**
 * The subscribe-side check of private topics, or undefined when `PRIVATE_TOPICS` is unset (then
 * nothing is checked and nothing costs). Throws GatewayError: 401 without a token or with one
 * that does not verify, 403 when it does not grant one of the private topics; the message names
 * the topic or the token's problem, never the token.
 */
export function createSubscriberAuth(
  cfg: TokenConfig,
): ((topics: string[], src: TokenSource) => Promise<Grant>) | undefined {
  if (cfg.privateTopics.length === 0) return undefined
  const encoder = new TextEncoder()
  const secretKeys = cfg.secrets.map((s) => encoder.encode(s))
  let publicKey: Promise<CryptoKey> | undefined
  const options = {
    issuer: cfg.issuer,
    audience: cfg.audience,
    requiredClaims: ['exp'],
  }

  async function verify(token: string): Promise<JWTPayload> {
    let last: unknown
    for (const key of secretKeys) {
      try {
        return (await jwtVerify(token, key, { ...options, algorithms: HMAC })).payload
      } catch (err) {
        last = err
        // Another secret may verify it (rotation); any other problem is the token's own.
        if (!(
          err instanceof errors.JWSSignatureVerificationFailed ||
          err instanceof errors.JOSEAlgNotAllowed
        )) {
          throw err
        }
      }
    }
    if (cfg.publicKey !== undefined) {
      let alg: string | undefined
      try {
        alg = decodeProtectedHeader(token).alg
      } catch {
        alg = undefined
      }
      if (alg !== undefined && ASYMMETRIC.includes(alg)) {
        publicKey ??= importSPKI(cfg.publicKey, alg)
        return (await jwtVerify(token, await publicKey, { ...options, algorithms: [alg] })).payload
      }
    }
    throw last ?? new errors.JOSEAlgNotAllowed('algorithm not accepted')
  }

  return async function authorize(topics, src) {
    const wanted = topics.filter((t) => cfg.privateTopics.some((p) => topicMatches(p, t)))
    if (wanted.length === 0) return { expiresAt: undefined, privateTopics: [] }
    const token = tokenOf(src, cfg.cookie)
    if (token === undefined || token === '') {
      throw refused(
        'unauthorized',
        `topic ${quote(wanted[0] as string)} is private: send a subscriber token (?token=, Authorization: Bearer or the ${cfg.cookie} cookie)`,
      )
    }
    if (token.length > MAX_TOKEN) {
      throw refused('unauthorized', `subscriber token is longer than ${MAX_TOKEN} characters`)
    }
    let payload: JWTPayload
    try {
      payload = await verify(token)
    } catch (err) {
      throw refused('unauthorized', describe(err))
    }
    const grants = Array.isArray(payload.topics)
      ? payload.topics.filter((g): g is string => typeof g === 'string')
      : []
    const denied = wanted.find((t) => !grants.some((g) => topicMatches(g, t)))
    if (denied !== undefined) {
      throw refused('forbidden', `subscriber token does not grant topic ${quote(denied)}`)
    }
    return { expiresAt: (payload.exp as number) * 1000, privateTopics: wanted }
  }
}

/**
 * The subscribe routes' guard (Hono route and Node's native path alike): undefined when no topic
 * is private; otherwise checks the request's token for its topics, tells `onRefused` of a 401 or
 * 403 (stats and metrics count them), and returns what `SubscribeRequest` carries on.
 */
export function createSubscribeGuard(
  cfg: TokenConfig | undefined,
  onRefused: (reason: RefusalReason) => void,
): ((topics: string[], src: TokenSource) => Promise<Grant>) | undefined {
  const authorize = cfg === undefined ? undefined : createSubscriberAuth(cfg)
  if (authorize === undefined) return undefined
  return async (topics, src) => {
    try {
      return await authorize(topics, src)
    } catch (err) {
      if (
        err instanceof GatewayError &&
        (err.code === 'unauthorized' || err.code === 'forbidden')
      ) {
        onRefused(err.code)
      }
      throw err
    }
  }
}
