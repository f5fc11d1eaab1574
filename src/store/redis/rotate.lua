-- One atomic rotation. Everything is read and validated before the first
-- write, so a failure (a corrupt record, a bad argument) leaves no partial state.
-- KEYS: presented token, successor token, the subject's family index,
--       the presented token's sealed successor.
-- ARGV: presented jti, successor jti, sealed successor ('' for none),
--       presented exp, presented keep-until, successor exp, successor keep-until,
--       now ('' to read the server's TIME inside the script), grace seconds,
--       revoke family (0/1), blacklist after rotation (0/1), accept unrecorded (0/1),
--       key prefix of the subject ("simplejwt:{subject}:").
local presented, successor, families, sealed_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local presented_jti, successor_jti, sealed = ARGV[1], ARGV[2], ARGV[3]
local presented_exp, presented_keep = tonumber(ARGV[4]), tonumber(ARGV[5])
local successor_exp, successor_keep = tonumber(ARGV[6]), tonumber(ARGV[7])
-- A key is never given an expiry in Redis's past (it would vanish at once).
local redis_now = tonumber(redis.call('TIME')[1])
-- The window is measured by the clock read inside the atomic step: the
-- server's, unless the caller injected a clock of its own (tests).
local now = redis_now
if ARGV[8] ~= '' then now = tonumber(ARGV[8]) end
local grace = tonumber(ARGV[9])
local revoke_family, blacklist_after, accept_unrecorded = ARGV[10] == '1', ARGV[11] == '1', ARGV[12] == '1'
local prefix = ARGV[13]

if not (presented_exp and presented_keep and successor_exp and successor_keep and now and grace) then
  return redis.error_reply('ERR rotate: a numeric argument is not a number')
end
-- Times beyond year 9999 would be stored as floats ("1.8e+19") and make EXPIREAT fail.
for _, value in ipairs({presented_exp, presented_keep, successor_exp, successor_keep, now, grace}) do
  if value < 0 or value > 253402300799 or value ~= math.floor(value) then
    return redis.error_reply('ERR rotate: a numeric argument is out of range')
  end
end
local function expiry(keep)
  if keep < redis_now + 60 then return redis_now + 60 end
  return keep
end
local function keep_until(key, keep)
  if redis.call('EXPIRETIME', key) < keep then redis.call('EXPIREAT', key, expiry(keep)) end
end

local record = redis.call('HMGET', presented, 'state', 'family', 'rotated_at')
local state, family, rotated_at = record[1], record[2], tonumber(record[3])
if state then
  if state ~= 'active' and state ~= 'used' and state ~= 'blacklisted' then
    return redis.error_reply('ERR corrupt: token ' .. presented_jti .. ' has state ' .. tostring(state))
  end
  if not family then
    return redis.error_reply('ERR corrupt: token ' .. presented_jti .. ' has no family')
  end
  if state == 'used' and not rotated_at then
    return redis.error_reply('ERR corrupt: token ' .. presented_jti .. ' is used without its rotation')
  end
else
  if not accept_unrecorded then return {'refused', 'unrecorded'} end
  family = presented_jti
end
local family_key = prefix .. 'fam:' .. family
local family_revoked = redis.call('HGET', family_key, 'revoked') == '1'

if state and family_revoked then return {'refused', 'blacklisted'} end
if state == 'blacklisted' then return {'refused', 'blacklisted'} end
if state == 'used' then
  local age = now - rotated_at
  if age < 0 then age = 0 end
  if age < grace then
    -- The sealed successor is stored as '<end of its window>|<sealed>'
    -- (an earlier version stored the sealed value alone).
    local kept = redis.call('GET', sealed_key)
    if kept then
      local bar = string.find(kept, '|', 1, true)
      local window_end = bar and tonumber(string.sub(kept, 1, bar - 1))
      if window_end then kept = string.sub(kept, bar + 1) end
      if not window_end or now < window_end then return {'replayed', kept} end
    end
    return {'refused', 'blacklisted'}
  end
  redis.call('HSET', presented, 'state', 'blacklisted')
  redis.call('DEL', sealed_key)
  if revoke_family then
    -- The would-be successor's keep-until bounds every token already minted
    -- in the family (a later token of it, of a record without a family key,
    -- must not outlive the revocation).
    local revoked_keep = math.max(presented_keep, successor_keep, tonumber(redis.call('HGET', family_key, 'keep_until')) or 0)
    redis.call('HSET', family_key, 'revoked', '1', 'keep_until', revoked_keep)
    keep_until(family_key, revoked_keep)
    redis.call('SADD', families, family)
    keep_until(families, revoked_keep)
  end
  return {'reused', family, revoke_family and '1' or '0'}
end
if redis.call('EXISTS', successor) == 1 then
  return redis.error_reply('ERR rotate: the successor ' .. successor_jti .. ' is already recorded')
end

-- Validated: write.
local function remember(key, exp, keep, token_state)
  redis.call('HSET', key, 'family', family, 'state', token_state, 'expires_at', exp, 'keep_until', keep)
  redis.call('EXPIREAT', key, expiry(keep))
end
if not state then remember(presented, presented_exp, presented_keep, 'active') end
if blacklist_after then
  redis.call('HSET', presented, 'state', 'used', 'rotated_at', now)
  if sealed ~= '' and grace > 0 then
    local window_end = math.min(now + grace, 253402300799)
    redis.call('SET', sealed_key, string.format('%d', window_end) .. '|' .. sealed, 'EX', grace)
  end
end
remember(successor, successor_exp, successor_keep, 'active')
redis.call('HSETNX', family_key, 'revoked', '0')
local family_keep = math.max(successor_keep, presented_keep, tonumber(redis.call('HGET', family_key, 'keep_until')) or 0)
redis.call('HSET', family_key, 'keep_until', family_keep)
keep_until(family_key, family_keep)
redis.call('SADD', families, family)
keep_until(families, family_keep)
return {'rotated'}
