-- q-bury: sets a reserved entry aside until kicked.
-- KEYS: 1 the entry hash, 2 its queue's ready set, 3 its reserved set, 4 its buried set.
-- ARGV: 1 entry id, 2 reservation token, 3 now ms.
-- Result: 1 when buried, 0 when the reservation is no longer the caller's.
-- Atomic: the ownership check and the move between sets run as one script.
-- uses: entries
if not zg_owned(KEYS[1], ARGV[2]) then return 0 end
local member = zg_member(ARGV[1])
zg_unlink(KEYS[2], KEYS[3], member)
redis.call('HINCRBY', KEYS[1], 'buries', 1)
redis.call('HSET', KEYS[1], 'state', 'buried', 'due_at', ARGV[3])
redis.call('ZADD', KEYS[4], tonumber(ARGV[1]), member)
return 1
