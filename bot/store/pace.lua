-- Telegram's flood limits for one bot token, kept for every process that sends with it.
-- KEYS[1] when the token's next slot is (µs, Redis clock)  KEYS[2] when this chat's next slot is
-- KEYS[3] sorted set of the token's sends in the last second  KEYS[4] when this chat last got one
--
-- reserve (queue up): ARGV[2] µs between two slots of the token, ARGV[3] µs between two to the chat.
--   The chat not due yet: {0, µs until it is} (nothing reserved: ask again then). Else the token's
--   next free slot is this message's: {1, µs until the slot}.
-- admit (at the slot, just before sending): ARGV[2] messages allowed per second, ARGV[3] µs
--   between two messages to the chat, ARGV[4] a name for this send. Slots keep messages apart, but
--   a process that wakes late sends late, bunched with the next ones; admit checks the real last
--   second and the chat's real last send: {1, 0} sent now, or {0, µs to wait and admit again}.
-- pause (a 429 came through anyway): ARGV[2] µs during which the token sends nothing. {1, 0}.
if redis.replicate_commands then
  redis.replicate_commands()  -- Redis < 5: writes after TIME must be replicated as effects
end
local clock = redis.call("TIME")
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local op = ARGV[1]

local function set_time(key, at, keep_ms)
  redis.call("SET", key, string.format("%d", at), "PX", math.floor((at - now) / 1000) + keep_ms)
end

if op == "admit" then
  local last = tonumber(redis.call("GET", KEYS[4]) or "0")
  local gap = tonumber(ARGV[3])
  if last + gap > now then
    return {0, last + gap - now}
  end
  redis.call("ZREMRANGEBYSCORE", KEYS[3], "-inf", now - 1000000)
  if redis.call("ZCARD", KEYS[3]) >= tonumber(ARGV[2]) then
    local oldest = tonumber(redis.call("ZRANGE", KEYS[3], 0, 0, "WITHSCORES")[2])
    return {0, math.max(1, oldest + 1000000 - now)}
  end
  redis.call("ZADD", KEYS[3], now, ARGV[4])
  redis.call("PEXPIRE", KEYS[3], 2000)
  set_time(KEYS[4], now, math.floor(gap / 1000) + 1000)
  return {1, 0}
end

local token_next = tonumber(redis.call("GET", KEYS[1]) or "0")
if op == "pause" then
  local resume = now + tonumber(ARGV[2])
  if resume > token_next then
    set_time(KEYS[1], resume, 60000)
  end
  return {1, 0}
end
local chat_next = tonumber(redis.call("GET", KEYS[2]) or "0")
if chat_next > now then
  return {0, chat_next - now}
end
local slot = math.max(now, token_next)
set_time(KEYS[1], slot + tonumber(ARGV[2]), 60000)
set_time(KEYS[2], slot + tonumber(ARGV[3]), 1000)
return {1, slot - now}
