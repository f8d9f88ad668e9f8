-- doc-list: job documents of one index, newest first.
-- KEYS[1] the index (sorted set of uuids by createdAt ms). ARGV: 1 job key prefix,
-- 2 upper score bound (e.g. '(1767225600000' for "strictly before", or '+inf'), 3 limit.
-- Result: an array of doc JSON strings.
-- Atomic: index and documents are read at one instant, so no listed uuid has lost its document.
local uuids = redis.call('ZRANGE', KEYS[1], ARGV[2], '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[3]))
local docs = {}
for _, uuid in ipairs(uuids) do
  local doc = redis.call('HGET', ARGV[1] .. uuid, 'doc')
  if doc then docs[#docs + 1] = doc end
end
return docs
