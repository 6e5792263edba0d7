-- The one message that shows an event in a chat, whichever process delivers which outbox entry.
-- KEYS[1] hash {message_id, entry}: the message and the newest entry shown in it;
-- KEYS[2] lock: the entry id being sent or edited into the chat now.
-- ARGV[1] op, ARGV[2] entry id, ARGV[3] lock lifetime ms, ARGV[4] hash lifetime s, ARGV[5] message id.
-- claim -> {"wait"} another entry of the event is being shown in the chat now: ask again shortly;
--          {"skip", id} this entry (or a newer one) is shown already; {"edit", id}; {"send"}.
-- done  -> records the message and the entry, frees the lock.   abandon -> frees the lock.
local function not_newer(a, b)
  local a_ms, a_seq = string.match(a, "(%d+)-(%d+)")
  local b_ms, b_seq = string.match(b, "(%d+)-(%d+)")
  a_ms, a_seq, b_ms, b_seq = tonumber(a_ms), tonumber(a_seq), tonumber(b_ms), tonumber(b_seq)
  return a_ms < b_ms or (a_ms == b_ms and a_seq <= b_seq)
end

local op = ARGV[1]
if op == "claim" then
  if redis.call("TYPE", KEYS[1]).ok == "string" then
    -- written by an earlier frontwatch: the message id alone
    local id = redis.call("GET", KEYS[1])
    redis.call("DEL", KEYS[1])
    redis.call("HSET", KEYS[1], "message_id", id)
    redis.call("EXPIRE", KEYS[1], ARGV[4])
  end
  if not redis.call("SET", KEYS[2], ARGV[2], "NX", "PX", ARGV[3]) then
    return {"wait", ""}
  end
  local shown = redis.call("HGET", KEYS[1], "entry")
  local id = redis.call("HGET", KEYS[1], "message_id")
  if shown and not_newer(ARGV[2], shown) then
    redis.call("DEL", KEYS[2])
    return {"skip", id or ""}
  end
  if id then
    return {"edit", id}
  end
  return {"send", ""}
end
if op == "done" then
  redis.call("HSET", KEYS[1], "message_id", ARGV[5], "entry", ARGV[2])
  redis.call("EXPIRE", KEYS[1], ARGV[4])
end
if redis.call("GET", KEYS[2]) == ARGV[2] then
  redis.call("DEL", KEYS[2])
end
return {"ok", ""}
