-- job-create: stores a new job's document and puts its uuid on its queue.
-- KEYS: 1 the job hash, 2 entry id counter, 3 the queue's ready set, 4 its delayed set.
-- ARGV: 1 index prefix, 2 uuid, 3 doc JSON before the entry id, 4 doc JSON after it, 5 jobType,
-- 6 state, 7 createdAt ms, 8 entry key prefix, 9 queue, 10 body, 11 priority, 12 ttr ms,
-- 13 delay ms, 14 now ms, 15 wake channel, 16 start, 17 finishedAt ms or '' (lib/docs.lua).
-- The document is ARGV[3] .. '"<entry id>"' .. ARGV[4]: the id is known only here (INCR), and
-- splicing the JSON spares decoding and re-encoding it (cjson would turn [] into {}).
-- Result: the entry id, or 0 when the uuid is taken (then nothing was written).
-- Atomic: the document, its indexes and its queue entry appear together or not at all.
-- uses: docs entries
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local id = zg_put(KEYS[2], ARGV[8], KEYS[3], KEYS[4], ARGV[9], ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13]),
  tonumber(ARGV[14]), ARGV[15])
local doc = ARGV[3] .. '"' .. id .. '"' .. ARGV[4]
zg_doc_write(KEYS[1], ARGV[1], ARGV[2], doc, ARGV[5], ARGV[6], ARGV[7], ARGV[16], ARGV[17])
return id
