-- Blacklists every active token of a subject. KEYS: subject index. ARGV: key prefix.
local revoked = 0
for _, jti in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 't:' .. jti
  if redis.call('HGET', key, 'state') == 'active' then
    redis.call('HSET', key, 'state', 'blacklisted')
    revoked = revoked + 1
  end
end
return revoked
