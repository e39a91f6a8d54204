import { Redis, type Result } from 'ioredis'
import { defineWindowScripts } from './redis-window-scripts.ts'

/**
 * The Lua scripts of the cluster directory. Each runs atomically inside Redis, so a reader never
 * sees half of a change, and every liveness test uses Redis's own clock (`TIME`): nodes with
 * skewed clocks still agree on who is alive.
 *
 * Scripts reach keys they compute from the prefix (`topic:<t>`, `tails:<t>`): that is fine on a
 * single Redis or a Sentinel pair, and the reason Redis Cluster (sharded) is not supported.
 */

/** Milliseconds on the Redis clock; defines `now` and `live(node)` (cached per call). */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local alive = {}
local function live(nodes, n)
  local a = alive[n]
  if a == nil then
    local s = redis.call('ZSCORE', nodes, n)
    a = (s and tonumber(s) > now) or false
    alive[n] = a
  end
  return a
end
`

/**
 * KEYS nodes, node-info, node-stats · ARGV node, ttlMs, infoJson, statsJson.
 * Extends the node's lease; returns 1 when the lease was still running, 0 when the node was
 * unknown or expired (its entries may have been reaped: the caller re-registers everything).
 */
const HEARTBEAT = `${PRELUDE}
local was = live(KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
if was then return 1 else return 0 end
`

/**
 * KEYS topic:<t>, topics, node-topics:<node>, since:<t> · ARGV topic, node, count, keep ('1'/'0'),
 * since (ms).
 * Records how many subscribers of the topic this node holds, and since when it has had some
 * (presence). Zero removes the node from the topic (and the last node removes the topic),
 * unless `keep`: the node lingers on the topic with a count of 0, so that publishes are kept in
 * its window instead of being dropped; a lingering node has no `since` (nobody is subscribed).
 */
const SET_TOPIC = `
if tonumber(ARGV[3]) > 0 or ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[1])
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[5])
else
  redis.call('HDEL', KEYS[4], ARGV[2])
end
return 1
`

/**
 * KEYS nodes · ARGV prefix.
 * Live nodes holding at least one connection, flat {node, connections, …}: the drop decision
 * and the targets of a broadcast, in one round trip.
 */
const CONN_NODES = `${PRELUDE}
local out = {}
for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local c = redis.call('SCARD', ARGV[1] .. 'node-conns:' .. n)
  if c > 0 then out[#out + 1] = n; out[#out + 1] = c end
end
return out
`

/**
 * KEYS nodes, topic:<t>, since:<t>.
 * Presence of one topic: flat {node, subscribers, sinceMs, …} of the live nodes holding
 * subscribers of it (a lingering node's count of 0 is left out).
 */
const PRESENCE = `${PRELUDE}
local out = {}
local h = redis.call('HGETALL', KEYS[2])
for i = 1, #h, 2 do
  if tonumber(h[i + 1]) > 0 and live(KEYS[1], h[i]) then
    out[#out + 1] = h[i]
    out[#out + 1] = h[i + 1]
    out[#out + 1] = redis.call('HGET', KEYS[3], h[i]) or ''
  end
end
return out
`

/**
 * KEYS nodes, topic:<t>, tails:<t>, pos:<t> · ARGV count a drop ('1'/'0').
 * The routing of one topic: { {node, count, …} of live nodes holding subscribers (a count of 0:
 * the node keeps the topic registered a while after its last subscriber left), {node, …} of
 * live nodes holding tails }. When no live node holds the topic, the publish asking is dropped:
 * with ARGV[1] = '1' it takes the topic's next sequence number here (when the topic has a
 * position), so that a resuming client counts it as missed, without another round trip.
 */
const LOOKUP = `${PRELUDE}
local subs, tails = {}, {}
local h = redis.call('HGETALL', KEYS[2])
for i = 1, #h, 2 do
  if live(KEYS[1], h[i]) then subs[#subs + 1] = h[i]; subs[#subs + 1] = h[i + 1] end
end
for _, n in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if live(KEYS[1], n) then tails[#tails + 1] = n end
end
if #subs == 0 and ARGV[1] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HINCRBY', KEYS[4], 'seq', 1)
end
return { subs, tails }
`

/**
 * KEYS nodes, node-info, node-stats, topics, conns, conn-info, conn-stats, node-topics:<n>,
 * node-conns:<n>, node-tails:<n> · ARGV node, prefix, chunk, mode.
 * Removes a node's entries from every topic, connection and tail index.
 *   mode 'reap': a dead node, `chunk` entries of each kind per call (SPOP: several reapers may
 *     run at once); stops (-1) if the node came back to life; 0 when done (node record removed
 *     too), 1 when more remain.
 *   mode 'clear': this node's own entries, all at once, before it writes them again.
 *   mode 'leave': 'clear' and the node record: a clean shutdown.
 */
const REMOVE_NODE = `${PRELUDE}
local node, P, chunk, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if mode == 'reap' and live(KEYS[1], node) then return -1 end
local function take(key)
  if mode ~= 'reap' then
    local m = redis.call('SMEMBERS', key)
    redis.call('DEL', key)
    return m
  end
  return redis.call('SPOP', key, chunk)
end
for _, topic in ipairs(take(KEYS[8])) do
  local h = P .. 'topic:' .. topic
  redis.call('HDEL', h, node)
  redis.call('HDEL', P .. 'since:' .. topic, node)
  if redis.call('EXISTS', h) == 0 then redis.call('ZREM', KEYS[4], topic) end
end
for _, id in ipairs(take(KEYS[9])) do
  local j = redis.call('HGET', KEYS[6], id)
  if j then
    local ok, info = pcall(cjson.decode, j)
    if ok and info.node == node then
      for _, topic in ipairs(info.topics) do redis.call('ZREM', P .. 'topic-conns:' .. topic, id) end
      redis.call('HDEL', KEYS[6], id)
      redis.call('ZREM', KEYS[5], id)
      redis.call('HDEL', KEYS[7], id)
    end
  end
end
for _, topic in ipairs(take(KEYS[10])) do redis.call('SREM', P .. 'tails:' .. topic, node) end
if mode == 'clear' then return 0 end
if mode == 'reap' and redis.call('EXISTS', KEYS[8], KEYS[9], KEYS[10]) > 0 then return 1 end
redis.call('ZREM', KEYS[1], node)
redis.call('HDEL', KEYS[2], node)
redis.call('HDEL', KEYS[3], node)
return 0
`

/** KEYS nodes. Node ids whose lease ran out. */
const DEAD_NODES = `${PRELUDE}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
`

/** KEYS nodes, node-info, node-stats. Live nodes as a flat list {id, infoJson, statsJson, …}. */
const LIVE_NODES = `${PRELUDE}
local out = {}
for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  out[#out + 1] = n
  out[#out + 1] = redis.call('HGET', KEYS[2], n) or ''
  out[#out + 1] = redis.call('HGET', KEYS[3], n) or ''
end
return out
`

/**
 * KEYS topics, nodes · ARGV key prefix, after, limit, name prefix.
 * One page of topics with a subscriber on a live node, in name order, after the cursor's name
 * (and starting with the name prefix, when one is given: topic characters all sort below '{'):
 * JSON [more, [[topic, subscribers, [node…], window], …]], window being [events, bytes] or
 * false when the topic has no position. Topics whose nodes all died, or that only linger, are
 * skipped, and the scan goes on until the page is full, so a page is short only at the end.
 */
const PAGE_TOPICS = `${PRELUDE}
local limit = tonumber(ARGV[3])
local np = ARGV[4]
local min = ARGV[2] == '' and '-' or '(' .. ARGV[2]
local max = '+'
if np ~= '' then
  max = '(' .. np .. '{'
  if ARGV[2] < np then min = '[' .. np end
end
local items, more = {}, false
while true do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], min, max, 'LIMIT', 0, limit + 1)
  for _, name in ipairs(batch) do
    local h = redis.call('HGETALL', ARGV[1] .. 'topic:' .. name)
    local subs, nodes = 0, {}
    for i = 1, #h, 2 do
      if live(KEYS[2], h[i]) then subs = subs + tonumber(h[i + 1]); nodes[#nodes + 1] = h[i] end
    end
    if subs > 0 then
      if #items == limit then more = true; break end
      local window = false
      local bytes = redis.call('HGET', ARGV[1] .. 'pos:' .. name, 'bytes')
      if bytes then
        window = { redis.call('XLEN', ARGV[1] .. 'window:' .. name), tonumber(bytes) }
      end
      items[#items + 1] = { name, subs, nodes, window }
    end
    min = '(' .. name
  end
  if more or #batch < limit + 1 then break end
end
return cjson.encode({ more, items })
`

/**
 * KEYS index (conns or topic-conns:<t>), conn-info, conn-stats, nodes · ARGV after, limit.
 * One page of connections of live nodes in id order (ids sort by creation): JSON
 * [more, [[infoJson, statsText], …]].
 */
const PAGE_CONNS = `${PRELUDE}
local limit = tonumber(ARGV[2])
local min = ARGV[1] == '' and '-' or '(' .. ARGV[1]
local items, more = {}, false
while true do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], min, '+', 'LIMIT', 0, limit + 1)
  for _, id in ipairs(batch) do
    local j = redis.call('HGET', KEYS[2], id)
    if j then
      local ok, info = pcall(cjson.decode, j)
      if ok and live(KEYS[4], info.node) then
        if #items == limit then more = true; break end
        items[#items + 1] = { j, redis.call('HGET', KEYS[3], id) or '' }
      end
    end
    min = '(' .. id
  end
  if more or #batch < limit + 1 then break end
end
return cjson.encode({ more, items })
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    sseHeartbeat(...args: [string, string, string, string, ...string[]]): Result<number, Context>
    sseSetTopic(
      ...args: [string, string, string, string, string, string, string, string, string]
    ): Result<number, Context>
    sseConnNodes(...args: [string, string]): Result<Array<string | number>, Context>
    ssePresence(...args: [string, string, string]): Result<string[], Context>
    sseLookup(
      ...args: [string, string, string, string, string]
    ): Result<[string[], string[]], Context>
    sseRemoveNode(...args: string[]): Result<number, Context>
    sseDeadNodes(key: string): Result<string[], Context>
    sseLiveNodes(...args: [string, string, string]): Result<string[], Context>
    ssePageTopics(
      ...args: [string, string, string, string, string, string]
    ): Result<string, Context>
    ssePageConns(...args: [string, string, string, string, string, string]): Result<string, Context>
  }
}

/** Registers the scripts as commands on a client (EVALSHA, falling back to EVAL once per socket). */
export function defineScripts(redis: Redis): void {
  redis.defineCommand('sseHeartbeat', { numberOfKeys: 3, lua: HEARTBEAT })
  redis.defineCommand('sseSetTopic', { numberOfKeys: 4, lua: SET_TOPIC })
  redis.defineCommand('sseConnNodes', { numberOfKeys: 1, lua: CONN_NODES })
  redis.defineCommand('ssePresence', { numberOfKeys: 3, lua: PRESENCE })
  redis.defineCommand('sseLookup', { numberOfKeys: 4, lua: LOOKUP })
  redis.defineCommand('sseRemoveNode', { numberOfKeys: 10, lua: REMOVE_NODE })
  redis.defineCommand('sseDeadNodes', { numberOfKeys: 1, lua: DEAD_NODES })
  redis.defineCommand('sseLiveNodes', { numberOfKeys: 3, lua: LIVE_NODES })
  redis.defineCommand('ssePageTopics', { numberOfKeys: 2, lua: PAGE_TOPICS })
  redis.defineCommand('ssePageConns', { numberOfKeys: 4, lua: PAGE_CONNS })
}

/**
 * The command connection of a node, with the scripts defined. No offline queue: while Redis is
 * away commands fail at once, so a publish falls back to local delivery instead of waiting, and
 * the re-registration after the reconnect catches up. Reconnects within a second.
 */
export function createRedis(url: string, name: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Auto-pipelining batches the lookups of concurrent publishes into one write, but defers
    // them to setImmediate, while a MULTI goes out at once. Writes outside a MULTI are sent at
    // once too, so that every write of this node reaches Redis in the order it was made.
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['hset', 'sseHeartbeat', 'sseRemoveNode'],
    commandTimeout: 2000,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  })
  defineScripts(redis)
  defineWindowScripts(redis)
  return redis
}

/**
 * Every key and channel of the cluster, under one prefix (`REDIS_PREFIX`, default `sse:`).
 * docs/cluster.md lists them with their meaning.
 */
export function clusterKeys(prefix: string) {
  return {
    prefix,
    nodes: `${prefix}nodes`,
    nodeInfo: `${prefix}node-info`,
    nodeStats: `${prefix}node-stats`,
    topics: `${prefix}topics`,
    conns: `${prefix}conns`,
    connInfo: `${prefix}conn-info`,
    connStats: `${prefix}conn-stats`,
    topic: (t: string) => `${prefix}topic:${t}`,
    /** Per node holding subscribers of a topic: since when (ms), for presence. */
    since: (t: string) => `${prefix}since:${t}`,
    topicConns: (t: string) => `${prefix}topic-conns:${t}`,
    tails: (t: string) => `${prefix}tails:${t}`,
    /** A topic's position: its epoch, last sequence number and the bytes its window holds. */
    pos: (t: string) => `${prefix}pos:${t}`,
    /** A topic's replay window: a Redis Stream. */
    window: (t: string) => `${prefix}window:${t}`,
    nodeTopics: (n: string) => `${prefix}node-topics:${n}`,
    nodeConns: (n: string) => `${prefix}node-conns:${n}`,
    nodeTails: (n: string) => `${prefix}node-tails:${n}`,
    /** Pub/sub channel a node listens on for forwarded events and commands. */
    channel: (n: string) => `${prefix}node:${n}`,
  }
}
export type ClusterKeys = ReturnType<typeof clusterKeys>

/** The ten keys `sseRemoveNode` takes, for one node. */
export function removeNodeKeys(k: ClusterKeys, node: string): string[] {
  return [
    k.nodes,
    k.nodeInfo,
    k.nodeStats,
    k.topics,
    k.conns,
    k.connInfo,
    k.connStats,
    k.nodeTopics(node),
    k.nodeConns(node),
    k.nodeTails(node),
  ]
}
