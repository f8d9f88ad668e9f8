-- doc-delete: removes a job document and its index entries.
-- KEYS[1] the job hash. ARGV: 1 index prefix, 2 uuid.
-- Result: 1 when there was a document, 0 otherwise.
-- Atomic: a listing never sees an index entry whose document is gone.
-- uses: docs
local old = redis.call('HMGET', KEYS[1], 'type', 'state')
if not old[1] then return 0 end
for _, k in ipairs(zg_index_keys(ARGV[1], old[1], old[2])) do redis.call('ZREM', k, ARGV[2]) end
redis.call('DEL', KEYS[1])
return 1
