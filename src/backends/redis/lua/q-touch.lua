-- q-touch: restarts a reserved entry's TTR clock.
-- KEYS: 1 the entry hash, 2 its queue's ready set, 3 its reserved set.
-- ARGV: 1 entry id, 2 reservation token, 3 now ms.
-- Result: 1 when touched, 0 when the reservation is no longer the caller's.
-- An expired lease not yet taken over is renewed too (it leaves the ready set again).
-- Atomic: the ownership check and the new lease run as one script.
-- uses: entries
if not zg_owned(KEYS[1], ARGV[2]) then return 0 end
local member = zg_member(ARGV[1])
local lease_until = tonumber(ARGV[3]) + tonumber(redis.call('HGET', KEYS[1], 'ttr_ms'))
redis.call('ZREM', KEYS[2], member)
redis.call('ZADD', KEYS[3], lease_until, member)
redis.call('HSET', KEYS[1], 'due_at', lease_until)
return 1
