-- A token's state as the verify endpoint sees it: its own, or 'blacklisted'
-- when its family is revoked. KEYS: token. ARGV: key prefix.
local record = redis.call('HMGET', KEYS[1], 'state', 'family')
local state, family = record[1], record[2]
if not state then return false end
if family and redis.call('HGET', ARGV[1] .. 'fam:' .. family, 'revoked') == '1' then
  if state == 'active' or state == 'used' then return 'blacklisted' end
end
return state
