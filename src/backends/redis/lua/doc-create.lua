-- doc-create: inserts a job document unless its uuid is taken.
-- KEYS[1] the job hash. ARGV: 1 index prefix, 2 uuid, 3 doc JSON, 4 jobType, 5 state, 6 createdAt ms,
-- 7 start, 8 finishedAt ms or '' (lib/docs.lua).
-- Result: the version (1) or 0 when the uuid is taken.
-- Atomic: the existence check, the hash and its four index entries run as one script.
-- uses: docs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
return zg_doc_write(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
