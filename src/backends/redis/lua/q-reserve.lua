-- q-reserve: leases up to `count` of the most urgent reservable entries of one or more queues;
-- asked to, also reads the job document each one names, and starts the run of a plain one.
-- KEYS: per queue, three keys: its ready, delayed and reserved sets.
-- ARGV: 1 entry key prefix, 2 now ms, 3 count (how many reservers wait for this call),
-- 4 job key prefix, or '' to read no documents, 5 index prefix, 6 claim: the fields that start a
-- run, as JSON object members without the braces ('"running":true,"state":"running",…'), or ''
-- to start none, 7 the state those fields set, 8… the job types that may be started.
-- Result: an array of up to `count` leases, most urgent first (priority, then id), each
-- {id, queue, body, reserves, priority (a string), version, doc, started}. Without a job key
-- prefix, or for a body that is not a JSON string of a plain token (letters, digits, '-', '_': a
-- uuid), a lease has its first five items only. Otherwise version and doc are the fields `v` and
-- `doc` of the hash <job key prefix><token> (nil when missing), and started is 0, or 1 when this
-- call started the run: then version is the new one and doc the document as it was before.
-- Started: with a claim, a document whose hash says it may start (its `start` field holds an
-- attempt: it is queued or delayed, not running and not killed; see lib/docs.lua) and whose type
-- is one of ARGV[8…]. Its new JSON is the old text with the claim's members and "attempt":
-- <start + 1> appended before the closing brace: JSON.parse keeps the last of duplicate
-- names (ECMA-262), so a reader gets the old document with those fields set, and the next
-- write of the document (its settle) stores it without the duplicates. Appending, rather than
-- re-encoding, keeps the rest of the text as it was, and no JSON is decoded here.
-- First, per queue, due delayed entries and expired leases move to the ready set (up to
-- PROMOTE_BATCH each per call, earliest first). An expired lease keeps its hash state
-- 'reserved' until taken, so its old holder may still delete it; taking it counts a timeout.
-- Atomic: the moves, the picks, the leases, the reads and the starts run as one script, so no
-- two reservers ever get one entry, a job is started only as it is when leased, and an entry is
-- always in exactly one place (a worker that dies holding a lease loses nothing: the lease set
-- hands the entry back once its TTR passes).
-- uses: entries docs
local PROMOTE_BATCH = 100 -- bounds one call's work; the rest move on the next reserves
local prefix, now, count, job_prefix = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local idx, claim, claim_state = ARGV[5], ARGV[6], ARGV[7]
local claim_types = {}
for i = 8, #ARGV do claim_types[ARGV[i]] = true end

-- Moves the due members of `timed` (a delayed or reserved set) to `ready`, scored by priority.
local function promote(timed, ready, is_delayed)
  local due = redis.call('ZRANGE', timed, '-inf', now, 'BYSCORE', 'LIMIT', 0, PROMOTE_BATCH)
  if #due == 0 then return end
  for _, m in ipairs(due) do
    local ekey = prefix .. zg_id(m)
    redis.call('ZADD', ready, redis.call('HGET', ekey, 'priority'), m)
    if is_delayed then redis.call('HSET', ekey, 'state', 'ready') end
  end
  redis.call('ZREM', timed, unpack(due))
end

-- The new JSON of a document the claim starts, or nil when it is not in the plain case: its
-- hash's `start` (lib/docs.lua) holds the attempt to go on from, and its type is one of ours.
local function started(json, job_type, start)
  local a = tonumber(start)
  if not a or not claim_types[job_type] or string.sub(json, -1) ~= '}' then return nil end
  return string.sub(json, 1, -2) .. ',' .. claim .. ',"attempt":' .. string.format('%d', a + 1) .. '}'
end

-- Reads (and maybe starts) the job that `lease`'s body names, adding version, doc and started.
local function read_job(lease)
  local uuid = string.match(lease[3], '^"([%w%-_]+)"$')
  if not uuid then return end
  local key = job_prefix .. uuid
  local h = redis.call('HMGET', key, 'v', 'type', 'state', 'score', 'doc', 'start')
  lease[6], lease[7], lease[8] = h[1], h[5], 0
  if claim == '' or not h[1] or not h[5] then return end
  local doc = started(h[5], h[2], h[6])
  if doc then lease[6], lease[8] = zg_doc_rewrite(key, idx, uuid, doc, claim_state, h, ''), 1 end
end

for i = 1, #KEYS, 3 do
  promote(KEYS[i + 1], KEYS[i], true)
  promote(KEYS[i + 2], KEYS[i], false)
end

-- The picks, most urgent first: {member, priority, index in KEYS of the queue's ready set,
-- priority as stored (returned as it is, so a fractional one is not cut to an integer)}.
-- With one queue holding ready entries (one queue asked for; or a job type's queue, the base
-- queue and idle types' queues being empty), its most urgent are popped as they stand, one
-- command; the queues' ZCARDs cost O(1) each. Only when several hold some are they merged.
local picks = {}
local holding, only = 0, 1
if #KEYS > 3 then
  for i = 1, #KEYS, 3 do
    if redis.call('ZCARD', KEYS[i]) > 0 then holding, only = holding + 1, i end
  end
end
if #KEYS == 3 or holding == 1 then
  local top = redis.call('ZPOPMIN', KEYS[only], count) -- ordered by score, then member (= id)
  for j = 1, #top, 2 do picks[#picks + 1] = { top[j], tonumber(top[j + 1]), only, top[j + 1] } end
elseif holding > 1 then
  local candidates = {}
  for i = 1, #KEYS, 3 do
    local top = redis.call('ZRANGE', KEYS[i], 0, count - 1, 'WITHSCORES')
    for j = 1, #top, 2 do candidates[#candidates + 1] = { top[j], tonumber(top[j + 1]), i, top[j + 1] } end
  end
  table.sort(candidates, function(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  local taken = {}
  for j = 1, math.min(count, #candidates) do
    local c = candidates[j]
    picks[j] = c
    taken[c[3]] = taken[c[3]] or {}
    table.insert(taken[c[3]], c[1])
  end
  for i, members in pairs(taken) do zg_chunked('ZREM', KEYS[i], members) end
end

local leases, by_queue = {}, {}
for _, p in ipairs(picks) do
  local member, i = p[1], p[3]
  local id = zg_id(member)
  local ekey = prefix .. id
  local f = redis.call('HMGET', ekey, 'state', 'ttr_ms', 'queue', 'body', 'reserves', 'timeouts')
  if f[1] then -- a member without its hash cannot be leased; dropping it from the set is all there is to do
    local reserves = tonumber(f[5]) + 1
    local lease_until = now + tonumber(f[2])
    if f[1] == 'reserved' then
      redis.call('HSET', ekey, 'state', 'reserved', 'due_at', lease_until, 'reserves', reserves,
        'timeouts', tonumber(f[6]) + 1)
    else
      redis.call('HSET', ekey, 'state', 'reserved', 'due_at', lease_until, 'reserves', reserves)
    end
    local lease = { id, f[3], f[4], reserves, p[4] }
    if job_prefix ~= '' then read_job(lease) end
    leases[#leases + 1] = lease
    local scored = by_queue[i] or {}
    by_queue[i] = scored
    scored[#scored + 1] = lease_until
    scored[#scored + 1] = member
  end
end
for i, scored in pairs(by_queue) do zg_chunked('ZADD', KEYS[i + 2], scored) end
return leases
