-- doc-replace: writes over a job document if its version is still the caller's.
-- KEYS[1] the job hash. ARGV: 1 index prefix, 2 uuid, 3 doc JSON, 4 state, 5 expected version,
-- 6 start, 7 finishedAt ms or '' (lib/docs.lua).
-- Result: the new version; 0 when the document is missing; -1 when the version is stale.
-- Atomic: the version check, the write and the state-index move run as one script (the CAS).
-- uses: docs
return zg_doc_replace(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
