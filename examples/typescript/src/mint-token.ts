/**
 * Prints a subscriber token for the gateway's private topics: a JWT signed with HS256 by `jose`,
 * granting the topics in TOPICS until TTL_SECONDS from now. A backend does the same when a user
 * asks for a stream.
 *
 *     TOKEN_SECRET=… TOPICS='user:42:*,audit' [TTL_SECONDS=3600] [SUBJECT=user-42] npx tsx src/mint-token.ts
 */
import { SignJWT } from 'jose'

const secret = process.env.TOKEN_SECRET ?? ''
const topics = (process.env.TOPICS ?? '')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean)
const ttl = Number(process.env.TTL_SECONDS || 3600)
if (!secret || topics.length === 0 || !Number.isSafeInteger(ttl) || ttl <= 0) {
  console.error(
    'usage: TOKEN_SECRET=… TOPICS=a,prefix*,… [TTL_SECONDS=3600] [SUBJECT=…] npx tsx src/mint-token.ts',
  )
  process.exit(2)
}

// topics: the grants (exact names, `prefix*` or `*`); exp: seconds since the epoch.
const jwt = new SignJWT({ topics })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
if (process.env.SUBJECT) jwt.setSubject(process.env.SUBJECT)
process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`)
