-- q-delete: removes a reserved entry, if the caller still holds it.
-- KEYS: 1 the entry hash, 2 its queue's ready set, 3 its reserved set.
-- ARGV: 1 entry id, 2 reservation token (the `reserves` count the holder was handed).
-- Result: 1 when deleted, 0 when the reservation is no longer the caller's.
-- Atomic: the ownership check and the removal from every set run as one script.
-- uses: entries
if not zg_owned(KEYS[1], ARGV[2]) then return 0 end
zg_unlink(KEYS[2], KEYS[3], zg_member(ARGV[1]))
redis.call('DEL', KEYS[1])
return 1
