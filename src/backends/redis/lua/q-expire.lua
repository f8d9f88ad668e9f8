-- q-expire: ends a live lease now, whoever holds it, as if its TTR had passed.
-- KEYS: 1 the entry hash, 2 its queue's reserved set.
-- ARGV: 1 entry id, 2 now ms, 3 wake channel.
-- Result: 1 when a live lease was ended, 0 when the entry is not reserved (or its lease already ran out).
-- Atomic: the state check and the new lease end run as one script; the next reserve takes the
-- entry over as an expired lease (counting a timeout), as it would after the TTR.
-- uses: entries
local f = redis.call('HMGET', KEYS[1], 'state', 'due_at')
local now = tonumber(ARGV[2])
if f[1] ~= 'reserved' or tonumber(f[2]) <= now then return 0 end
if redis.call('ZADD', KEYS[2], 'XX', 'CH', now, zg_member(ARGV[1])) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'due_at', now)
redis.call('PUBLISH', ARGV[3], 1)
return 1
