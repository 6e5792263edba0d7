-- One lease: which process runs a singleton (Telegram polling, the X stream) now.
-- KEYS[1] the lease ("<holder> <fence>"), KEYS[2] its fence counter.
-- ARGV[1] op: "acquire" | "renew" | "release"; ARGV[2] holder (acquire) or the full value held
-- (renew, release); ARGV[3] lifetime in ms (acquire, renew).
-- acquire -> {1, value} when taken (the fence is a number no earlier holder had), {0, value of the holder}
-- renew, release -> 1 when the value held is still ours, else 0 (someone else holds it now).
local op = ARGV[1]
if op == "acquire" then
  local current = redis.call("GET", KEYS[1])
  if current then
    return {0, current}
  end
  local fence = redis.call("INCR", KEYS[2])
  local value = ARGV[2] .. " " .. fence
  redis.call("SET", KEYS[1], value, "PX", ARGV[3])
  return {1, value}
end
if redis.call("GET", KEYS[1]) ~= ARGV[2] then
  return 0
end
if op == "renew" then
  redis.call("PEXPIRE", KEYS[1], ARGV[3])
else
  redis.call("DEL", KEYS[1])
end
return 1
