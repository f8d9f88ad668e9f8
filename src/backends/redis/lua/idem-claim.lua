-- idem-claim: records that an idempotency key stands for a job, unless a live record exists.
-- KEYS[1] the key's record ({p}:idem:{key}). ARGV: 1 the new job's uuid, 2 the window in ms.
-- Result: the uuid the key stands for now (ARGV[1] when this call recorded it).
-- Atomic: SET NX and the read of the holder run as one script; Redis expires the record.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return ARGV[1] end
return redis.call('GET', KEYS[1])
