-- Record one matched post: dedup, events, outbox (bot/store/events.py explains the steps).
-- Every key comes from bot/store/keys.py. Keys that hold an id the script makes up are passed
-- as templates with '{id}' where the id goes.
--   KEYS[1] seen-bucket template   KEYS[2] event counter   KEYS[3] event hash template
--   KEYS[4] event authors template KEYS[5] event sources template   KEYS[6] outbox stream
--   KEYS[7] event voices template (the independent voices counted: an outlet, or an author)
--   KEYS[8..] the open-event key of each match, in the order of the matches
--   ARGV: post id, author, text fingerprint, post time, now, bucket seconds, buckets, seen ttl,
--         referenced post ids (JSON), matches (JSON), source record (JSON), author trust,
--         grace seconds, sources kept, trusted tier, author's role, author's voice
local function key(template, id)
  return (template:gsub('{id}', function() return tostring(id) end))
end

local post_id, author, fp = ARGV[1], ARGV[2], ARGV[3]
local post_time, now = tonumber(ARGV[4]), tonumber(ARGV[5])
local bucket_secs, buckets, seen_ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local refs, matches, source = cjson.decode(ARGV[9]), cjson.decode(ARGV[10]), ARGV[11]
local trust, grace, keep = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local trusted_tier, role, voice = tonumber(ARGV[15]), ARGV[16], ARGV[17]

local current = math.floor(now / bucket_secs)
local function seen(member)
  for b = current - buckets + 1, current do
    if redis.call('SISMEMBER', key(KEYS[1], b), member) == 1 then return true end
  end
  return false
end
local bucket_key = key(KEYS[1], current)
if seen('p:' .. post_id) then return cjson.encode({status = 'duplicate'}) end
local copy = seen('t:' .. fp)
redis.call('SADD', bucket_key, 'p:' .. post_id, 't:' .. fp)
redis.call('EXPIRE', bucket_key, seen_ttl + bucket_secs)
local points_at_seen = false
for _, ref in ipairs(refs) do
  if seen('p:' .. ref) then points_at_seen = true end
end

local function open_event(m)
  local event_id = m.rule .. ':' .. m.place .. ':' .. redis.call('INCR', KEYS[2])
  local ev = key(KEYS[3], event_id)
  redis.call('HSET', ev, 'rule', m.rule, 'location', m.location, 'geonameid', m.geonameid,
    'country', m.country, 'lang', m.lang, 'first_at', post_time, 'last_at', post_time,
    'sources', 0, 'alerted', 0, 'evidence', m.evidence, 'confidence', m.confidence,
    'opt_in', m.opt_in, 'change', m.change, 'actor', m.actor, 'independent', 0,
    'confirm_sources', m.confirm_sources)
  return event_id, ev
end

-- Adds the author as a source; returns 'alert', 'update' or nil (an author already counted),
-- and how the source was folded ('copy', 'retweet', 'outlet') or nil.
-- A copy, a retweet or quote of a post already seen, or a second account of an outlet already
-- counted is shown but folded: it does not count as an independent source.
local function add_source(m, ev, authors, sources_key, voices)
  if redis.call('SADD', authors, author) == 0 then return nil, nil end
  redis.call('HINCRBY', ev, 'sources', 1)
  local folded = nil
  if points_at_seen then folded = 'retweet'
  elseif copy then folded = 'copy'
  elseif redis.call('SADD', voices, voice) == 0 then folded = 'outlet' end
  if not folded then redis.call('HINCRBY', ev, 'independent', 1) end
  if m.actor ~= '' and (redis.call('HGET', ev, 'actor') or '') == '' then
    redis.call('HSET', ev, 'actor', m.actor)
  end
  local record = cjson.decode(source)
  record['copy'] = copy
  record['folded'] = folded or ''
  local encoded = cjson.encode(record)
  if tonumber(redis.call('HGET', ev, 'sources')) == 1 then
    redis.call('HSET', ev, 'first_source', encoded)  -- kept whatever the list below drops
  end
  redis.call('RPUSH', sources_key, encoded)
  redis.call('LTRIM', sources_key, -keep, -1)
  if redis.call('HGET', ev, 'alerted') ~= '0' then return 'update', folded end
  local independent = tonumber(redis.call('HGET', ev, 'independent'))
  if independent >= m.min_sources or (trust >= trusted_tier and role ~= 'party') then
    redis.call('HSET', ev, 'alerted', 1)
    return 'alert', folded
  end
  return nil, folded
end

local out = {}
for i, m in ipairs(matches) do
  local open_key = KEYS[7 + i]
  local event_id = redis.call('GET', open_key)
  local ev = event_id and key(KEYS[3], event_id)
  if ev and post_time - tonumber(redis.call('HGET', ev, 'last_at') or 0) > m.window then
    event_id, ev = nil, nil
  end
  if not ev and not points_at_seen then event_id, ev = open_event(m) end
  if ev then
    local ttl = m.window + grace
    redis.call('SET', open_key, event_id, 'EX', ttl)
    if post_time > tonumber(redis.call('HGET', ev, 'last_at')) then
      redis.call('HSET', ev, 'last_at', post_time)
    end
    local authors, sources_key = key(KEYS[4], event_id), key(KEYS[5], event_id)
    local voices = key(KEYS[7], event_id)
    local kind, folded = add_source(m, ev, authors, sources_key, voices)
    for _, k in ipairs({ev, authors, sources_key, voices}) do redis.call('EXPIRE', k, ttl) end
    if kind then
      local h = redis.call('HGETALL', ev)
      local fields = {'kind', kind, 'event_id', event_id, 'sources_list',
        cjson.encode(redis.call('LRANGE', sources_key, 0, -1))}
      for j = 1, #h do fields[#fields + 1] = h[j] end
      local entry = redis.call('XADD', KEYS[6], '*', unpack(fields))
      out[#out + 1] = {kind = kind, event_id = event_id, entry = entry, folded = folded or ''}
    else
      out[#out + 1] = {kind = 'joined', event_id = event_id, folded = folded or ''}
    end
  end
end
return cjson.encode({status = 'recorded', copy = copy, events = out})
