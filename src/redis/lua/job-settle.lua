-- job-settle: records a run's outcome (CAS replace) and deletes or releases its queue entry.
-- KEYS: 1 the job hash, 2 the entry hash, 3 the entry queue's ready set, 4 its delayed set,
-- 5 its reserved set.
-- ARGV: 1 index prefix, 2 uuid, 3 doc JSON, 4 state, 5 expected version, 6 entry id,
-- 7 reservation token, 8 'delete' or 'release', 9 release delay ms, 10 now ms, 11 wake channel.
-- Result: {version, settled}: version as doc-replace (0 missing, -1 stale: then nothing was
-- written); settled 1 when the entry was ours and is gone or released, 0 when left alone
-- (another worker holds it now and will read the recorded outcome).
-- Atomic: outcome and entry change together; no crash leaves one done without the other.
-- uses: docs entries
local v = zg_doc_replace(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if v <= 0 then return { v, 0 } end
if not zg_owned(KEYS[2], ARGV[7]) then return { v, 0 } end
local member = zg_member(ARGV[6])
if ARGV[8] == 'delete' then
  zg_unlink(KEYS[3], KEYS[5], member)
  redis.call('DEL', KEYS[2])
else
  zg_release(KEYS[2], KEYS[3], KEYS[4], KEYS[5], member, tonumber(ARGV[10]), tonumber(ARGV[9]), '', ARGV[11])
end
return { v, 1 }
