-- job-requeue: writes over a job document if its version is still the caller's (CAS) and puts
-- a new queue entry for it (a user's retry of a finished job).
-- KEYS: 1 the job hash, 2 entry id counter, 3 the queue's ready set, 4 its delayed set.
-- ARGV: 1 index prefix, 2 uuid, 3 doc JSON before the entry id, 4 doc JSON after it, 5 state,
-- 6 expected version, 7 start (lib/docs.lua), 8 entry key prefix, 9 queue, 10 body,
-- 11 priority, 12 ttr ms, 13 delay ms, 14 now ms, 15 wake channel.
-- The document is ARGV[3] .. '"<entry id>"' .. ARGV[4], as in job-create.lua.
-- Result: the new entry's id; 0 when the document is missing, -1 when the version is stale
-- (then nothing was written and no entry was put).
-- Atomic: the version check, the document, its index moves and the entry happen together.
-- uses: docs entries
local old = redis.call('HMGET', KEYS[1], 'v', 'type', 'state', 'score')
if not old[1] then return 0 end
if old[1] ~= ARGV[6] then return -1 end
local id = zg_put(KEYS[2], ARGV[8], KEYS[3], KEYS[4], ARGV[9], ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13]),
  tonumber(ARGV[14]), ARGV[15])
local doc = ARGV[3] .. '"' .. id .. '"' .. ARGV[4]
zg_doc_rewrite(KEYS[1], ARGV[1], ARGV[2], doc, ARGV[5], old, ARGV[7])
return id
