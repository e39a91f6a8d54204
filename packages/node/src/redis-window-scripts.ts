import type { Redis, Result } from 'ioredis'

/**
 * The Lua scripts of the replay window: a topic's position (`pos:<t>`, a hash of `epoch`, the
 * last sequence number `seq` and the `bytes` its window holds) and its window (`window:<t>`, a
 * Redis Stream whose entries carry `s` seq, `i` publisher id, `e` event type, `d` data). Entry
 * ids are Redis's own (`<ms>-<n>` on the Redis clock), so the age bound trims by `MINID`.
 */

/** Bytes counted for an entry beyond its id, type and data (the stream's own bookkeeping). */
export const ENTRY_OVERHEAD = 64

/** `now` on the Redis clock, in milliseconds. */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

/** Fields of a stream entry as a table, its size, and the milliseconds of its id. */
const ENTRY = `
local function fields(f)
  local m = {}
  for k = 1, #f, 2 do m[f[k]] = f[k + 1] end
  return m
end
local function size(m)
  return #(m.i or '') + #(m.e or '') + #(m.d or '') + ${ENTRY_OVERHEAD}
end
local function ms(id)
  return tonumber(string.match(id, '^(%d+)'))
end
`

/**
 * KEYS nodes, topic:<t>, tails:<t>, pos:<t>, window:<t> · ARGV new epoch, max events, age ms,
 * max bytes, position ttl ms, id, event ('' = none), data.
 * Gives the event the topic's next sequence number, holds it in the window within the bounds,
 * and answers where the event must go, all at one instant: a node registered before it gets the
 * event forwarded, one registered after it reads it from the window.
 * Returns { seq, epoch, {node, count, …} of live nodes holding subscribers, {node, …} with tails }.
 * A topic without a position (new, expired, or Redis lost it) starts a new epoch, and a window
 * left over from the old one is deleted: the epoch is what tells a resuming client `reset`.
 */
const APPEND = `${NOW}${ENTRY}
local pos, win = KEYS[4], KEYS[5]
local maxEvents, ageMs, maxBytes = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local epoch = redis.call('HGET', pos, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', win)
  redis.call('HSET', pos, 'epoch', epoch, 'seq', 0, 'bytes', 0)
end
local seq = redis.call('HINCRBY', pos, 'seq', 1)
local entry = { i = ARGV[6], e = ARGV[7], d = ARGV[8] }
local sz = size(entry)
if maxEvents > 0 and sz <= maxBytes then
  redis.call('XADD', win, '*', 's', seq, 'i', ARGV[6], 'e', ARGV[7], 'd', ARGV[8])
  local bytes = redis.call('HINCRBY', pos, 'bytes', sz)
  -- Let the oldest entries go while a bound is passed; each entry is looked at once in its
  -- life, so this costs O(1) an append however large the window.
  local len = redis.call('XLEN', win)
  local cutoff = now - ageMs
  local removed, keep, from = 0, nil, '-'
  while true do
    local e = redis.call('XRANGE', win, from, '+', 'COUNT', 1)[1]
    if not e then break end
    if len - removed > maxEvents or bytes > maxBytes or ms(e[1]) < cutoff then
      removed = removed + 1
      bytes = bytes - size(fields(e[2]))
      from = '(' .. e[1]
    else
      keep = e[1]
      break
    end
  end
  if removed > 0 then
    if keep then redis.call('XTRIM', win, 'MINID', keep) else redis.call('DEL', win) end
    redis.call('HSET', pos, 'bytes', bytes)
  end
  redis.call('PEXPIRE', win, ageMs)
end
redis.call('PEXPIRE', pos, ARGV[5])
local alive = {}
local function live(n)
  local a = alive[n]
  if a == nil then
    local s = redis.call('ZSCORE', KEYS[1], n)
    a = (s and tonumber(s) > now) or false
    alive[n] = a
  end
  return a
end
local subs, tails = {}, {}
local h = redis.call('HGETALL', KEYS[2])
for i = 1, #h, 2 do
  if live(h[i]) then subs[#subs + 1] = h[i]; subs[#subs + 1] = h[i + 1] end
end
for _, n in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if live(n) then tails[#tails + 1] = n end
end
return { seq, epoch, subs, tails }
`

/**
 * KEYS pos:<t1>, window:<t1>, pos:<t2>, window:<t2>, … · ARGV new epoch, position ttl ms, age
 * ms, create ('1'/'0'), then for each topic: epoch asked ('' = the position only), seq asked.
 * Each topic's history: { epoch, last seq, {seq, id, event, data, …} } with the held entries
 * after the asked position (every held entry when the asked epoch is not the topic's), oldest
 * first, none older than the age bound. With create, a topic without a position gets one (a new
 * epoch, seq 0) and its position's expiry is renewed (a subscriber arrived); without, the epoch
 * of a topic without a position is ''.
 */
const HISTORY = `${NOW}${ENTRY}
local cutoff = now - tonumber(ARGV[3])
local create = ARGV[4] == '1'
local out = {}
for i = 1, #KEYS, 2 do
  local pos, win = KEYS[i], KEYS[i + 1]
  local a = 5 + (i - 1)
  local askEpoch, after = ARGV[a], tonumber(ARGV[a + 1])
  local p = redis.call('HMGET', pos, 'epoch', 'seq')
  local epoch, last, entries = p[1], tonumber(p[2]) or 0, {}
  if not epoch then
    epoch = ''
    if create then
      epoch = ARGV[1]
      redis.call('DEL', win)
      redis.call('HSET', pos, 'epoch', epoch, 'seq', 0, 'bytes', 0)
    end
  elseif askEpoch ~= '' then
    local list = {}
    if askEpoch ~= epoch then
      after = 0
      list = redis.call('XRANGE', win, '-', '+')
    elseif last > after then
      -- Sequence numbers are distinct and at most last: the entries after \`after\` are among
      -- the newest last - after.
      local rev = redis.call('XREVRANGE', win, '+', '-', 'COUNT', last - after)
      for k = #rev, 1, -1 do list[#list + 1] = rev[k] end
    end
    for _, e in ipairs(list) do
      local m = fields(e[2])
      local s = tonumber(m.s)
      if s and s > after and ms(e[1]) >= cutoff then
        entries[#entries + 1] = m.s
        entries[#entries + 1] = m.i or ''
        entries[#entries + 1] = m.e or ''
        entries[#entries + 1] = m.d or ''
      end
    end
  end
  if create then redis.call('PEXPIRE', pos, ARGV[2]) end
  out[#out + 1] = { epoch, last, entries }
end
return out
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    sseAppend(
      ...args: [string, string, string, string, string, ...string[]]
    ): Result<[number, string, string[], string[]], Context>
    sseHistory(...args: string[]): Result<Array<[string, number, string[]]>, Context>
  }
}

/** Registers the window's scripts as commands on a client. */
export function defineWindowScripts(redis: Redis): void {
  redis.defineCommand('sseAppend', { numberOfKeys: 5, lua: APPEND })
  // The number of keys varies (two a topic): given as the first argument of each call.
  redis.defineCommand('sseHistory', { lua: HISTORY })
}
