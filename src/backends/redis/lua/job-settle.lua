-- job-settle: records runs' outcomes (CAS replace) and deletes or releases their queue entries.
-- KEYS: per run, five keys: the job hash, the entry hash, and the entry queue's ready, delayed
-- and reserved sets.
-- ARGV: 1 index prefix, 2 now ms, then per run eleven values: uuid, doc JSON, state, expected
-- version, entry id, reservation token, 'delete' or 'release', release delay ms, wake channel,
-- start, finishedAt ms or '' (lib/docs.lua).
-- Result: per run, in order, {version, settled}: version as doc-replace (0 missing, -1 stale:
-- then nothing of that run was written); settled 1 when the entry was ours and is gone or
-- released, 0 when left alone (another worker holds it now and will read the recorded outcome).
-- Atomic: each run's outcome and entry change together, so no crash leaves one done without the
-- other. The settles of one tick share a call (group commit: one round trip and one script
-- dispatch for all), each with its own answer.
-- uses: docs entries
local idx, now = ARGV[1], tonumber(ARGV[2])
local answers = {}
for r = 0, #KEYS / 5 - 1 do
  local k, a = r * 5, 2 + r * 11
  local job, ekey, ready, delayed, reserved = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  local v = zg_doc_replace(job, idx, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 10], ARGV[a + 11])
  local settled = 0
  if v > 0 and zg_owned(ekey, ARGV[a + 6]) then
    local member = zg_member(ARGV[a + 5])
    if ARGV[a + 7] == 'delete' then
      zg_unlink(ready, reserved, member)
      redis.call('DEL', ekey)
    else
      zg_release(ekey, ready, delayed, reserved, member, now, tonumber(ARGV[a + 8]), '', ARGV[a + 9])
    end
    settled = 1
  end
  answers[#answers + 1] = { v, settled }
end
return answers
