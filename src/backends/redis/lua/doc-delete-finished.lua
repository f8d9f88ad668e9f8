-- doc-delete-finished: one batch of retention, finished documents of one type and status.
-- KEYS[1] the retention index of that status and type (lib/docs.lua zg_fin_key: uuids scored by
-- finishedAt ms). ARGV: 1 job key prefix, 2 index prefix, 3 status, 4 job type, 5 finished
-- before this ms ('' for no age limit), 6 keep the newest this many ('' for no count limit),
-- 7 the batch's size.
-- Result: how many documents were deleted.
-- The index is read oldest first (score, then uuid), so what goes is a prefix of it: members
-- older than the cutoff, or ranked below the newest `keep`. Each document is deleted only when
-- its hash still says this type and status; a member whose document is gone or has moved on
-- (set back to queued) is only taken out of the index.
-- Atomic: the reads, the checks and the deletes of a batch run as one script, so no write lands
-- between a document's check and its delete, and no listing sees a deleted document's entries.
-- Idempotency keys are not touched: they expire on their own (a TTL of the window).
-- uses: docs
local job_prefix, idx, status, job_type = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cutoff, limit = tonumber(ARGV[5]), tonumber(ARGV[7])
local over = 0
if ARGV[6] ~= '' then over = math.max(0, redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[6])) end
local rows = redis.call('ZRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')
local deleted = 0
for i = 1, #rows, 2 do
  local uuid, rank = rows[i], (i - 1) / 2
  if rank >= over and not (cutoff and tonumber(rows[i + 1]) < cutoff) then break end
  local key = job_prefix .. uuid
  local h = redis.call('HMGET', key, 'type', 'state')
  if h[1] == job_type and h[2] == status then
    zg_doc_remove(key, idx, uuid)
    deleted = deleted + 1
  else
    redis.call('ZREM', KEYS[1], uuid)
  end
end
return deleted
