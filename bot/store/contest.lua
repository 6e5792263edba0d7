-- A denial of an alerted event ("X has not fallen") from a party or a trusted source: the event is
-- marked contested and an update goes to the outbox. Keys come from bot/store/keys.py.
--   KEYS[1] the open-event key of (rule, place)   KEYS[2] event hash template
--   KEYS[3] event sources template   KEYS[4] outbox stream   KEYS[5] event denials template
--   ARGV: post id, source record (JSON), author's role, author's trust, least trust that counts,
--         sources kept
local function key(template, id)
  return (template:gsub('{id}', function() return tostring(id) end))
end

local post_id, source, role = ARGV[1], ARGV[2], ARGV[3]
local trust, least_trust, keep = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local event_id = redis.call('GET', KEYS[1])
if not event_id then return cjson.encode({status = 'no-event'}) end
local ev = key(KEYS[2], event_id)
if redis.call('HGET', ev, 'alerted') ~= '1' then return cjson.encode({status = 'not-alerted'}) end
if role ~= 'party' and trust < least_trust then return cjson.encode({status = 'not-trusted'}) end
local denials = key(KEYS[5], event_id)
if redis.call('SADD', denials, post_id) == 0 then return cjson.encode({status = 'duplicate'}) end
redis.call('EXPIRE', denials, redis.call('TTL', ev))

redis.call('HSET', ev, 'contested', 1)
local record = cjson.decode(source)
record['denies'] = true
local sources_key = key(KEYS[3], event_id)
redis.call('RPUSH', sources_key, cjson.encode(record))
redis.call('LTRIM', sources_key, -keep, -1)
local h = redis.call('HGETALL', ev)
local fields = {'kind', 'update', 'event_id', event_id, 'sources_list',
  cjson.encode(redis.call('LRANGE', sources_key, 0, -1))}
for j = 1, #h do fields[#fields + 1] = h[j] end
local entry = redis.call('XADD', KEYS[4], '*', unpack(fields))
return cjson.encode({status = 'contested', event_id = event_id, entry = entry})
