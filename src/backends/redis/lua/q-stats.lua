-- q-stats: counts a queue's entries by the state Beanstalkd would report.
-- KEYS: 1 ready set, 2 delayed set, 3 reserved set, 4 buried set. ARGV: 1 now ms.
-- Result: {ready, delayed, reserved, buried}; due delays and expired leases count as ready.
-- Atomic: the four counts are taken at one instant, so an entry moving is never counted twice.
local now = tonumber(ARGV[1])
local due = redis.call('ZCOUNT', KEYS[2], '-inf', now)
local expired = redis.call('ZCOUNT', KEYS[3], '-inf', now)
return {
  redis.call('ZCARD', KEYS[1]) + due + expired,
  redis.call('ZCARD', KEYS[2]) - due,
  redis.call('ZCARD', KEYS[3]) - expired,
  redis.call('ZCARD', KEYS[4]),
}
