-- Purges one key of the namespace whose time is over: a token or family
-- record kept until `now` or before, or a sealed successor whose window
-- ended by then. Keys of another type or shape (not ours) are left alone.
-- KEYS: the key. ARGV: now, the clock-skew margin.
-- Returns 1 when a token record was deleted, 2 when a sealed successor was, else 0.
local key, now, margin = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
if not (now and margin) then return redis.error_reply('ERR purge: a numeric argument is not a number') end
local kind = redis.call('TYPE', key)['ok']
if kind == 'hash' then
  local fields = redis.call('HMGET', key, 'state', 'revoked', 'keep_until', 'expires_at')
  local state, revoked = fields[1], fields[2]
  if not state and not revoked then return 0 end
  -- Records of an earlier version have no keep-until: `exp` plus the margin.
  local keep = tonumber(fields[3])
  if not keep and tonumber(fields[4]) then keep = tonumber(fields[4]) + margin end
  if keep and keep <= now then
    redis.call('DEL', key)
    if state then return 1 end
    return 0
  end
  -- The clear-text successor an earlier version kept.
  if state then redis.call('HDEL', key, 'successor') end
  return 0
end
if kind == 'string' and string.find(key, ':s:', 1, true) then
  local value = redis.call('GET', key)
  local bar = string.find(value, '|', 1, true)
  local window_end = bar and tonumber(string.sub(value, 1, bar - 1))
  if window_end and window_end <= now then
    redis.call('DEL', key)
    return 2
  end
end
return 0
