-- doc-list: job documents of one index, newest first, after a cursor.
-- KEYS[1] the index (sorted set of uuids by createdAt ms). ARGV: 1 job key prefix,
-- 2 the cursor's createdAt ms ('' for none), 3 the cursor's uuid, 4 limit.
-- Listing order is score descending, then member descending among equal scores (ZRANGE … REV
-- sorts ties by member, in reverse): src/contracts/list-order.ts. After the cursor means a lower
-- score, or the cursor's score and a smaller uuid; those few ties (jobs created in the cursor's
-- millisecond) are read first, then the lower scores from the index.
-- Result: an array of doc JSON strings.
-- Atomic: index and documents are read at one instant, so no listed uuid has lost its document.
local limit = tonumber(ARGV[4])
local uuids = {}
local upper = '+inf'
if ARGV[2] ~= '' then
  for _, uuid in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[2], 'BYSCORE', 'REV')) do
    if #uuids >= limit then break end
    if uuid < ARGV[3] then uuids[#uuids + 1] = uuid end
  end
  upper = '(' .. ARGV[2]
end
if #uuids < limit then
  for _, uuid in ipairs(redis.call('ZRANGE', KEYS[1], upper, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit - #uuids)) do
    uuids[#uuids + 1] = uuid
  end
end
local docs = {}
for _, uuid in ipairs(uuids) do
  local doc = redis.call('HGET', ARGV[1] .. uuid, 'doc')
  if doc then docs[#docs + 1] = doc end
end
return docs
