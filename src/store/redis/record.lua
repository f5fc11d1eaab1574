-- Records a token, or blacklists one. KEYS: token, subject index.
-- ARGV: jti, exp, key prefix, mode ('record' or 'blacklist').
-- Returns 1 when the token changed state, 0 when it was already blacklisted or used.
local token, index = KEYS[1], KEYS[2]
local jti, exp, prefix, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]

local function keep_until(key, expires)
  if redis.call('EXPIRETIME', key) < expires then redis.call('EXPIREAT', key, expires) end
end

local state = redis.call('HGET', token, 'state')
if not state then
  redis.call('HSET', token, 'family', jti, 'state', 'active', 'expires_at', exp)
  redis.call('EXPIREAT', token, exp)
  local family_key = prefix .. 'f:' .. jti
  redis.call('SADD', family_key, jti)
  keep_until(family_key, exp)
  redis.call('SADD', index, jti)
  keep_until(index, exp)
  state = 'active'
  if mode == 'record' then return 1 end
end
if mode == 'blacklist' and state == 'active' then
  redis.call('HSET', token, 'state', 'blacklisted')
  return 1
end
return 0
