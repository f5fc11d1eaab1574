-- One atomic rotation. KEYS: presented token, successor token, subject index.
-- ARGV: presented jti, successor jti, successor token, presented exp, successor exp,
--       now, grace seconds, revoke family (0/1), blacklist after rotation (0/1),
--       accept unrecorded (0/1), key prefix of the subject ("simplejwt:{subject}:").
local presented, successor, index = KEYS[1], KEYS[2], KEYS[3]
local presented_jti, successor_jti, successor_token = ARGV[1], ARGV[2], ARGV[3]
local presented_exp, successor_exp = tonumber(ARGV[4]), tonumber(ARGV[5])
local now, grace = tonumber(ARGV[6]), tonumber(ARGV[7])
local revoke_family, blacklist_after, accept_unrecorded = ARGV[8] == '1', ARGV[9] == '1', ARGV[10] == '1'
local prefix = ARGV[11]

local function keep_until(key, exp)
  if redis.call('EXPIRETIME', key) < exp then redis.call('EXPIREAT', key, exp) end
end

local function remember(key, jti, family, exp, state)
  redis.call('HSET', key, 'family', family, 'state', state, 'expires_at', exp)
  redis.call('EXPIREAT', key, exp)
  local family_key = prefix .. 'f:' .. family
  redis.call('SADD', family_key, jti)
  keep_until(family_key, exp)
  redis.call('SADD', index, jti)
  keep_until(index, exp)
end

local state = redis.call('HGET', presented, 'state')
if not state then
  if not accept_unrecorded then return {'refused', 'unrecorded'} end
  remember(presented, presented_jti, presented_jti, presented_exp, 'active')
  state = 'active'
end
if state == 'blacklisted' then return {'refused', 'blacklisted'} end
local family = redis.call('HGET', presented, 'family')
if state == 'used' then
  local age = now - tonumber(redis.call('HGET', presented, 'rotated_at'))
  if age < 0 then age = 0 end
  if age < grace then return {'replayed', redis.call('HGET', presented, 'successor')} end
  redis.call('HSET', presented, 'state', 'blacklisted')
  local revoked = 0
  if revoke_family then
    for _, jti in ipairs(redis.call('SMEMBERS', prefix .. 'f:' .. family)) do
      local key = prefix .. 't:' .. jti
      local member_state = redis.call('HGET', key, 'state')
      if member_state and member_state ~= 'blacklisted' then
        redis.call('HSET', key, 'state', 'blacklisted')
        revoked = revoked + 1
      end
    end
  end
  return {'reused', family, tostring(revoked)}
end
if blacklist_after then
  redis.call('HSET', presented, 'state', 'used', 'successor', successor_token, 'rotated_at', now)
end
remember(successor, successor_jti, family, successor_exp, 'active')
return {'rotated'}
