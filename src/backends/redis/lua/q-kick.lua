-- q-kick: moves up to `bound` buried entries of a queue back to ready, oldest first.
-- KEYS: 1 the queue's buried set, 2 its ready set.
-- ARGV: 1 entry key prefix, 2 bound, 3 now ms, 4 wake channel.
-- Result: how many entries were kicked.
-- Atomic: each entry leaves the buried set and joins the ready set in the same script.
-- uses: entries
local bound = tonumber(ARGV[2])
if bound <= 0 then return 0 end
local members = redis.call('ZRANGE', KEYS[1], 0, bound - 1)
for _, m in ipairs(members) do
  local ekey = ARGV[1] .. zg_id(m)
  redis.call('HINCRBY', ekey, 'kicks', 1)
  redis.call('HSET', ekey, 'state', 'ready', 'due_at', ARGV[3])
  redis.call('ZADD', KEYS[2], redis.call('HGET', ekey, 'priority'), m)
end
if #members > 0 then
  redis.call('ZREM', KEYS[1], unpack(members))
  redis.call('PUBLISH', ARGV[4], #members)
end
return #members
