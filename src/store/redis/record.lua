-- Records a token (a new family), or logs one out (blacklists it and revokes
-- its family). Everything is read and validated before the first write.
-- KEYS: token, the subject's family index, the token's sealed successor.
-- ARGV: jti, exp, keep-until, key prefix, mode ('record' or 'blacklist'),
--       the family's keep-until (bounds every token the family may hold).
-- A used (rotated) token presented for logout is blacklisted too, its sealed
-- successor erased and its family revoked, so another tab's rotation does
-- not outlive the logout.
-- Returns 1 when an active (or unrecorded) token was blacklisted, 2 when a
-- used one revoked its family, 0 when it was already blacklisted or revoked.
local token, families, sealed_key = KEYS[1], KEYS[2], KEYS[3]
local jti, exp, keep, prefix, mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local family_bound = tonumber(ARGV[6])
if not (exp and keep and family_bound) then return redis.error_reply('ERR record: a numeric argument is not a number') end
-- Times beyond year 9999 would be stored as floats ("1.8e+19") and make EXPIREAT fail.
for _, value in ipairs({exp, keep, family_bound}) do
  if value < 0 or value > 253402300799 or value ~= math.floor(value) then
    return redis.error_reply('ERR record: a numeric argument is out of range')
  end
end
local redis_now = tonumber(redis.call('TIME')[1])
local function expiry(until_)
  if until_ < redis_now + 60 then return redis_now + 60 end
  return until_
end
local function keep_until(key, until_)
  if redis.call('EXPIRETIME', key) < until_ then redis.call('EXPIREAT', key, expiry(until_)) end
end

local record = redis.call('HMGET', token, 'state', 'family')
local state, family = record[1], record[2]
if not state then
  local token_state = mode == 'record' and 'active' or 'blacklisted'
  redis.call('HSET', token, 'family', jti, 'state', token_state, 'expires_at', exp, 'keep_until', keep)
  redis.call('EXPIREAT', token, expiry(keep))
  if mode == 'record' then
    local family_key = prefix .. 'fam:' .. jti
    redis.call('HSET', family_key, 'revoked', '0', 'keep_until', keep)
    keep_until(family_key, keep)
    redis.call('SADD', families, jti)
    keep_until(families, keep)
  end
  return 1
end
if mode ~= 'blacklist' then return 0 end
if not family then return redis.error_reply('ERR corrupt: token ' .. jti .. ' has no family') end
local family_key = prefix .. 'fam:' .. family
if (state ~= 'active' and state ~= 'used') or redis.call('HGET', family_key, 'revoked') == '1' then return 0 end
redis.call('HSET', token, 'state', 'blacklisted')
redis.call('DEL', sealed_key)
local revoked_keep = math.max(keep, family_bound, tonumber(redis.call('HGET', family_key, 'keep_until')) or 0)
redis.call('HSET', family_key, 'revoked', '1', 'keep_until', revoked_keep)
keep_until(family_key, revoked_keep)
redis.call('SADD', families, family)
keep_until(families, revoked_keep)
if state == 'used' then return 2 end
return 1
