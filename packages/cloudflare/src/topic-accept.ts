import { errorResponse } from '@sse-gateway/core'
import { type Env, hubFor, readSettings, registryFor } from './env.ts'
import type { TopicSockets } from './topic-sockets.ts'

/** Header the Worker sends with a WebSocket upgrade: who connects, to which topics. */
export const CONN_HEADER = 'x-gateway-conn'

export interface ConnHeader {
  id: string
  topics: string[]
  remoteAddress: string | null
  userAgent: string | null
}

/**
 * Accepts a WebSocket subscriber in its home object (its first topic), for hibernation: the
 * runtime holds the socket while the object sleeps, and wakes it for an event or a close.
 * Before the upgrade is answered, the socket's other topics record it as a member (so an event
 * published right after the upgrade reaches it) and the registry lists it.
 */
export async function acceptSocket(opts: {
  env: Env
  sockets: TopicSockets
  conn: ConnHeader | null
}): Promise<Response> {
  const { env, sockets, conn } = opts
  if (!conn?.id || !Array.isArray(conn.topics) || conn.topics.length === 0) {
    return errorResponse('bad_request', 'missing connection header')
  }
  const [home, ...others] = conn.topics as [string, ...string[]]
  try {
    await Promise.all(others.map((t) => hubFor(env, t).addMember(t, conn.id, home)))
  } catch (cause) {
    await Promise.allSettled(others.map((t) => hubFor(env, t).removeMember(conn.id)))
    throw cause
  }
  const { 0: client, 1: server } = new WebSocketPair()
  const connectedAt = new Date().toISOString()
  sockets.accept(server, {
    id: conn.id,
    topics: conn.topics,
    connectedAt,
    remoteAddress: conn.remoteAddress,
    userAgent: conn.userAgent,
    events: 0,
    bytes: 0,
  })
  const shards = readSettings(env).registryShards
  await registryFor(env, shards, conn.id).add({
    id: conn.id,
    transport: 'ws',
    topics: conn.topics,
    home,
    connectedAt,
    remoteAddress: conn.remoteAddress,
    userAgent: conn.userAgent,
  })
  return new Response(null, {
    status: 101,
    webSocket: client,
    headers: { 'x-sse-connection-id': conn.id },
  })
}
