-- fleet-list: the live workers' records, after deleting the records (and inboxes) of workers
-- dead for more than a minute.
-- KEYS: 1 the fleet's workers hash, 2 its expiry zset. ARGV: 1 inbox key prefix, 2 now (ms),
-- 3 purge cutoff (ms: records that expired before it go).
-- Result: the JSON of each record expiring after now, in no particular order (the caller sorts).
-- Atomic: a worker announcing at the same moment (hash and zset in one MULTI) is purged before
-- its announcement or kept after it, never left with a record and no expiry, or the reverse.
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
for _, id in ipairs(dead) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('DEL', ARGV[1] .. id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
local records = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[2], '+inf')) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then records[#records + 1] = json end
end
return records
