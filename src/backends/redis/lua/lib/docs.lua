-- lib/docs: helpers shared by the document scripts; src/backends/redis/scripts.ts prepends this file
-- to every script that declares it. Index key names mirror src/backends/redis/keys.ts (RedisKeys.index):
-- idx .. 'all' | 'type:' .. type | 'state:' .. state | 'ts:' .. state .. ':' .. type,
-- each a sorted set of uuids scored by createdAt in ms; and 'fin:' .. status .. ':' .. type, below.

local function zg_index_keys(idx, job_type, state)
  return { idx .. 'all', idx .. 'type:' .. job_type, idx .. 'state:' .. state, idx .. 'ts:' .. state .. ':' .. job_type }
end

-- Retention's index (doc-delete-finished.lua): idx .. 'fin:' .. status .. ':' .. type, a sorted
-- set of the finished documents of that status and type scored by finishedAt in ms. Only the
-- three statuses of a finished job have one.
local ZG_FINISHED = { finished = true, failed = true, killed = true }

local function zg_fin_key(idx, status, job_type)
  return idx .. 'fin:' .. status .. ':' .. job_type
end

-- Keeps a document's retention entry in step with a write that takes it from status `from`
-- (nil: a new document) to `to`. `fin` is the new finishedAt in ms ('' when it has none, nil
-- when the caller cannot say: a write that only starts a run, which never ends a finished state).
local function zg_fin_move(idx, uuid, from_type, from, to_type, to, fin)
  if from and ZG_FINISHED[from] and (from ~= to or from_type ~= to_type) then
    redis.call('ZREM', zg_fin_key(idx, from, from_type), uuid)
  end
  if not ZG_FINISHED[to] or fin == nil then return end
  if fin == '' then
    redis.call('ZREM', zg_fin_key(idx, to, to_type), uuid)
  else
    redis.call('ZADD', zg_fin_key(idx, to, to_type), fin, uuid)
  end
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
-- repeats a CAS token its readers may still hold. `fin`: see zg_fin_move.
local function zg_doc_write(key, idx, uuid, doc, job_type, state, score, start, fin)
  local old = redis.call('HMGET', key, 'v', 'type', 'state', 'score')
  zg_fin_move(idx, uuid, old[2], old[1] and old[3], job_type, state, fin)
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

-- Removes a document's hash and every index entry of it; false when there was none.
local function zg_doc_remove(key, idx, uuid)
  local old = redis.call('HMGET', key, 'type', 'state')
  if not old[1] then return false end
  for _, k in ipairs(zg_index_keys(idx, old[1], old[2])) do redis.call('ZREM', k, uuid) end
  if ZG_FINISHED[old[2]] then redis.call('ZREM', zg_fin_key(idx, old[2], old[1]), uuid) end
  redis.call('DEL', key)
  return true
end

-- Writes `doc` as the next version of an existing document whose stored fields `old` holds
-- ({v, type, state, score}, as HMGET read them); returns the new version. The stored type and
-- createdAt score are kept (they never change after create), so only the two indexes that name
-- the state can move, and only `v`, `doc`, `state` and `start` are written. `fin`: see zg_fin_move.
local function zg_doc_rewrite(key, idx, uuid, doc, state, old, start, fin)
  local v = tonumber(old[1]) + 1
  if old[3] ~= state then zg_move_state(idx, uuid, old[2], old[3], state, old[4]) end
  zg_fin_move(idx, uuid, old[2], old[3], old[2], state, fin)
  redis.call('HSET', key, 'v', v, 'doc', doc, 'state', state, 'start', start)
  return v
end

-- CAS-replaces a document: the new version, 0 when it is missing, -1 when `cas` is stale.
local function zg_doc_replace(key, idx, uuid, doc, state, cas, start, fin)
  local old = redis.call('HMGET', key, 'v', 'type', 'state', 'score')
  if not old[1] then return 0 end
  if old[1] ~= cas then return -1 end
  return zg_doc_rewrite(key, idx, uuid, doc, state, old, start, fin)
end
