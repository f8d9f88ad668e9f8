-- idem-release: removes an idempotency key's record if it still stands for the given job.
-- KEYS[1] the key's record. ARGV: 1 the job's uuid (whose create failed).
-- Result: 1 when removed, 0 otherwise.
-- Atomic: the check and the delete run as one script, so another job's record is never removed.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
