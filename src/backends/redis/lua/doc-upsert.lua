-- doc-upsert: writes a job document whatever its version, creating it when missing.
-- KEYS[1] the job hash. ARGV: 1 index prefix, 2 uuid, 3 doc JSON, 4 jobType, 5 state, 6 createdAt ms,
-- 7 start, 8 finishedAt ms or '' (lib/docs.lua).
-- Result: the new version.
-- Atomic: the hash and its index entries change together.
-- uses: docs
return zg_doc_write(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
