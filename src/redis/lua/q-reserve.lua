-- q-reserve: leases the most urgent reservable entry of one or more queues.
-- KEYS: per queue, three keys: its ready, delayed and reserved sets.
-- ARGV: 1 entry key prefix, 2 now ms.
-- Result: {id, queue, body, reserves} or nil when nothing is reservable.
-- First, per queue, due delayed entries and expired leases move to the ready set (up to
-- PROMOTE_BATCH each per call, earliest first). An expired lease keeps its hash state
-- 'reserved' until taken, so its old holder may still delete it; taking it counts a timeout.
-- Atomic: the moves, the pick and the lease run as one script, so no two reservers ever get
-- one entry, and an entry is always in exactly one place (a worker that dies holding a lease
-- loses nothing: the lease set hands the entry back once its TTR passes).
-- uses: entries
local PROMOTE_BATCH = 100 -- bounds one call's work; the rest move on the next reserves
local prefix, now = ARGV[1], tonumber(ARGV[2])
local best_score, best_member, best_ready, best_reserved
for i = 1, #KEYS, 3 do
  local ready, delayed, reserved = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  for _, timed in ipairs({ delayed, reserved }) do
    local due = redis.call('ZRANGE', timed, '-inf', now, 'BYSCORE', 'LIMIT', 0, PROMOTE_BATCH)
    for _, m in ipairs(due) do
      local ekey = prefix .. zg_id(m)
      redis.call('ZADD', ready, redis.call('HGET', ekey, 'priority'), m)
      if timed == delayed then redis.call('HSET', ekey, 'state', 'ready') end
    end
    if #due > 0 then redis.call('ZREM', timed, unpack(due)) end
  end
  local top = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
  if top[1] then
    local score = tonumber(top[2])
    if not best_member or score < best_score or (score == best_score and top[1] < best_member) then
      best_score, best_member, best_ready, best_reserved = score, top[1], ready, reserved
    end
  end
end
if not best_member then return nil end
redis.call('ZREM', best_ready, best_member)
local id = zg_id(best_member)
local ekey = prefix .. id
local f = redis.call('HMGET', ekey, 'state', 'ttr_ms', 'queue', 'body')
if f[1] == 'reserved' then redis.call('HINCRBY', ekey, 'timeouts', 1) end
local reserves = redis.call('HINCRBY', ekey, 'reserves', 1)
local lease_until = now + tonumber(f[2])
redis.call('HSET', ekey, 'state', 'reserved', 'due_at', lease_until)
redis.call('ZADD', best_reserved, lease_until, best_member)
return { id, f[3], f[4], reserves }
