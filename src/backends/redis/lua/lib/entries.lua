-- lib/entries: helpers shared by the queue scripts; src/backends/redis/scripts.ts prepends this file
-- to every script that declares it. An entry is the hash `{p}:entry:{id}`; its member in the
-- queue's sorted sets is the id zero-padded to 16 digits, so equal scores order by id (FIFO).
-- Times are integer ms from the caller's clock (ARGV), never the server's TIME.

local function zg_member(id)
  return string.format('%016d', tonumber(id))
end

local function zg_id(member)
  return string.format('%d', tonumber(member))
end

-- True when the entry is still reserved under the reservation count `token` its holder got.
-- An expired lease nobody took over still matches: like Beanstalkd, the slow holder may finish.
local function zg_owned(ekey, token)
  local f = redis.call('HMGET', ekey, 'state', 'reserves')
  return f[1] == 'reserved' and f[2] == token
end

-- Takes the entry's member out of the sets a reserved entry can be in: its lease set, or the
-- ready set when an expired lease was already moved there by a reserve. It is never in both
-- (every move is one script), so the ready set is looked at only when the lease set had none.
local function zg_unlink(ready, reserved, member)
  if redis.call('ZREM', reserved, member) == 0 then redis.call('ZREM', ready, member) end
end

-- Runs `cmd key ...` with the items of `list` as arguments, at most 1000 per call (Lua's
-- unpack has a stack limit); 1000 is even, so ZADD's score-member pairs stay together.
local function zg_chunked(cmd, key, list)
  for from = 1, #list, 1000 do
    redis.call(cmd, key, unpack(list, from, math.min(from + 999, #list)))
  end
end

-- Returns a reserved entry to ready (delay_ms <= 0) or delayed; counts a release. Publishes a
-- wake-up on `channel` when it is ready at once. `priority` '' keeps the current one.
local function zg_release(ekey, ready, delayed, reserved, member, now, delay_ms, priority, channel)
  zg_unlink(ready, reserved, member)
  if priority == '' then priority = redis.call('HGET', ekey, 'priority') end
  redis.call('HINCRBY', ekey, 'releases', 1)
  if delay_ms > 0 then
    redis.call('HSET', ekey, 'state', 'delayed', 'due_at', now + delay_ms, 'priority', priority)
    redis.call('ZADD', delayed, now + delay_ms, member)
  else
    redis.call('HSET', ekey, 'state', 'ready', 'due_at', now, 'priority', priority)
    redis.call('ZADD', ready, priority, member)
    redis.call('PUBLISH', channel, 1)
  end
end

-- Adds a new entry; returns its id. Publishes a wake-up on `channel` when it is ready at once.
local function zg_put(seq, entry_prefix, ready, delayed, queue, body, priority, ttr_ms, delay_ms, now, channel)
  local id = string.format('%d', redis.call('INCR', seq))
  local member = zg_member(id)
  local state = 'ready'
  if delay_ms > 0 then state = 'delayed' end
  redis.call('HSET', entry_prefix .. id, 'queue', queue, 'body', body, 'priority', priority, 'ttr_ms', ttr_ms,
    'state', state, 'due_at', now + delay_ms, 'reserves', 0, 'timeouts', 0, 'releases', 0, 'buries', 0, 'kicks', 0)
  if delay_ms > 0 then
    redis.call('ZADD', delayed, now + delay_ms, member)
  else
    redis.call('ZADD', ready, priority, member)
    redis.call('PUBLISH', channel, 1)
  end
  return id
end
