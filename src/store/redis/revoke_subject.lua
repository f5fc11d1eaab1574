-- Revokes every family of a subject: one write per family, none per rotation.
-- KEYS: the subject's family index, the subject's token index of an earlier version.
-- ARGV: key prefix. Returns how many families (or, for records of an earlier
-- version, active tokens) were revoked.
local families, legacy_index, prefix = KEYS[1], KEYS[2], ARGV[1]
local revoked = 0
for _, family in ipairs(redis.call('SMEMBERS', families)) do
  local key = prefix .. 'fam:' .. family
  local current = redis.call('HGET', key, 'revoked')
  if not current then
    redis.call('SREM', families, family)
  elseif current ~= '1' then
    redis.call('HSET', key, 'revoked', '1')
    revoked = revoked + 1
  end
end
-- Records written before families existed: walked once, then the index is gone.
for _, jti in ipairs(redis.call('SMEMBERS', legacy_index)) do
  local key = prefix .. 't:' .. jti
  if redis.call('HGET', key, 'state') == 'active' then
    redis.call('HSET', key, 'state', 'blacklisted')
    revoked = revoked + 1
  end
end
redis.call('DEL', legacy_index)
return revoked
