-- q-put: adds a queue entry, ready at once or delayed.
-- KEYS: 1 entry id counter, 2 the queue's ready set, 3 its delayed set.
-- ARGV: 1 entry key prefix, 2 queue, 3 body, 4 priority, 5 ttr ms, 6 delay ms, 7 now ms, 8 wake channel.
-- Result: the new entry's id.
-- Atomic: the id, the hash and the set membership appear together; the wake-up follows them.
-- uses: entries
return zg_put(KEYS[1], ARGV[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]),
  tonumber(ARGV[7]), ARGV[8])
