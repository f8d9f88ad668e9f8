-- lib/docs: helpers shared by the document scripts; src/backends/redis/scripts.ts prepends this file
-- to every script that declares it. Index key names mirror src/backends/redis/keys.ts (RedisKeys.index):
-- idx .. 'all' | 'type:' .. type | 'state:' .. state | 'ts:' .. state .. ':' .. type,
-- each a sorted set of uuids scored by createdAt in ms.

local function zg_index_keys(idx, job_type, state)
  return { idx .. 'all', idx .. 'type:' .. job_type, idx .. 'state:' .. state, idx .. 'ts:' .. state .. ':' .. job_type }
end

-- The two index entries that move when a document's state changes (zg_index_keys' last two).
local function zg_move_state(idx, uuid, job_type, from, to, score)
  redis.call('ZREM', idx .. 'state:' .. from, uuid)
  redis.call('ZADD', idx .. 'state:' .. to, score, uuid)
  redis.call('ZREM', idx .. 'ts:' .. from .. ':' .. job_type, uuid)
  redis.call('ZADD', idx .. 'ts:' .. to .. ':' .. job_type, score, uuid)
end

-- Every write also stores `start`: the document's attempt when a reserve may start its next run
-- (queued or delayed, not running, not killed: src/backends/redis/redis-datastore.ts
-- startableAttempt), else ''. q-reserve.lua reads it instead of decoding the JSON (cjson costs
-- ~25 us per document here, more than the rest of a reserve).

-- Writes a document hash and keeps its index entries in step; returns the new version.
-- Only the indexes whose key changes are touched (a state change moves 2 of the 4).
-- The version counts every write, so a replaced, upserted or recreated document never
-- repeats a CAS token its readers may still hold.
local function zg_doc_write(key, idx, uuid, doc, job_type, state, score, start)
  local old = redis.call('HMGET', key, 'v', 'type', 'state', 'score')
  local v = tonumber(old[1] or '0') + 1
  local new_keys = zg_index_keys(idx, job_type, state)
  if not old[1] then
    for _, k in ipairs(new_keys) do redis.call('ZADD', k, score, uuid) end
  elseif old[2] ~= job_type or old[3] ~= state or old[4] ~= score then
    local old_keys = zg_index_keys(idx, old[2], old[3])
    for i, k in ipairs(new_keys) do
      if old_keys[i] ~= k then redis.call('ZREM', old_keys[i], uuid) end
      if old_keys[i] ~= k or old[4] ~= score then redis.call('ZADD', k, score, uuid) end
    end
  end
  redis.call('HSET', key, 'v', v, 'doc', doc, 'type', job_type, 'state', state, 'score', score, 'start', start)
  return v
end

-- Writes `doc` as the next version of an existing document whose stored fields `old` holds
-- ({v, type, state, score}, as HMGET read them); returns the new version. The stored type and
-- createdAt score are kept (they never change after create), so only the two indexes that name
-- the state can move, and only `v`, `doc`, `state` and `start` are written.
local function zg_doc_rewrite(key, idx, uuid, doc, state, old, start)
  local v = tonumber(old[1]) + 1
  if old[3] ~= state then zg_move_state(idx, uuid, old[2], old[3], state, old[4]) end
  redis.call('HSET', key, 'v', v, 'doc', doc, 'state', state, 'start', start)
  return v
end

-- CAS-replaces a document: the new version, 0 when it is missing, -1 when `cas` is stale.
local function zg_doc_replace(key, idx, uuid, doc, state, cas, start)
  local old = redis.call('HMGET', key, 'v', 'type', 'state', 'score')
  if not old[1] then return 0 end
  if old[1] ~= cas then return -1 end
  return zg_doc_rewrite(key, idx, uuid, doc, state, old, start)
end
