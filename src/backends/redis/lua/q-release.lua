-- q-release: returns a reserved entry to its queue, ready at once or after a delay.
-- KEYS: 1 the entry hash, 2 its queue's ready set, 3 its delayed set, 4 its reserved set.
-- ARGV: 1 entry id, 2 reservation token, 3 now ms, 4 delay ms, 5 new priority or '' to keep it,
-- 6 wake channel.
-- Result: 1 when released, 0 when the reservation is no longer the caller's.
-- Atomic: the ownership check and the move between sets run as one script.
-- uses: entries
if not zg_owned(KEYS[1], ARGV[2]) then return 0 end
zg_release(KEYS[1], KEYS[2], KEYS[3], KEYS[4], zg_member(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5],
  ARGV[6])
return 1
