"""Where a post is deduplicated and matches become events: one atomic Redis script per matched post.

In one round trip the script
- drops a post id seen before (two listeners, a reconnect),
- notes the text fingerprint, so a copy pasted by several accounts is one report with several authors,
- joins each match to the open event of its rule and place (within the rule's window, on post time),
  or opens one, unless the post only points at an already-seen post (a retweet of old news),
- counts distinct authors as sources and, when an event reaches `min_sources` (or a trusted author
  reports it), appends an `alert` to the outbox stream; each later new author appends an `update`.
Being one script, it is atomic: several bot processes on one Redis still alert each event once.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.posts import Post
from bot.rules import Match
from bot.rules.schema import Rule
from bot.store.keys import (
    EVENT_GRACE_SECONDS,
    OUTBOX_MAXLEN,
    SEEN_BUCKET_SECONDS,
    SEEN_BUCKETS,
    SEEN_TTL_SECONDS,
    Keys,
)

# An author at this trust tier (officials) raises the alert alone, whatever min_sources says.
TRUSTED_TIER = 3
# The newest sources an event keeps (and each outbox entry carries); the count covers them all.
MAX_SOURCES_KEPT = 20

_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(^|\s)(rt\s+)?@\w+:?", re.IGNORECASE)
_NON_WORD = re.compile(r"[\W_]+")


def text_fingerprint(text: str) -> str:
    """Equal for copies of one text that differ in case, links, mentions, punctuation or spacing."""
    core = _MENTION.sub(" ", _URL.sub(" ", text.lower()))
    core = _NON_WORD.sub(" ", core).strip()
    return hashlib.blake2b(core.encode(), digest_size=8).hexdigest()


_RECORD = """
local prefix = ARGV[1]
local post_id, author, fp = ARGV[2], ARGV[3], ARGV[4]
local post_time, now = tonumber(ARGV[5]), tonumber(ARGV[6])
local bucket_secs, buckets, seen_ttl = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local refs, matches, source = cjson.decode(ARGV[10]), cjson.decode(ARGV[11]), ARGV[12]
local trust, grace, maxlen, keep = tonumber(ARGV[13]), tonumber(ARGV[14]), ARGV[15], tonumber(ARGV[16])
local trusted_tier = tonumber(ARGV[17])

local current = math.floor(now / bucket_secs)
local function seen(member)
  for b = current - buckets + 1, current do
    if redis.call('SISMEMBER', prefix .. 'seen:' .. b, member) == 1 then return true end
  end
  return false
end
local bucket_key = prefix .. 'seen:' .. current
if seen('p:' .. post_id) then return cjson.encode({status = 'duplicate'}) end
local copy = seen('t:' .. fp)
redis.call('SADD', bucket_key, 'p:' .. post_id, 't:' .. fp)
redis.call('EXPIRE', bucket_key, seen_ttl + bucket_secs)
local points_at_seen = false
for _, ref in ipairs(refs) do
  if seen('p:' .. ref) then points_at_seen = true end
end

local out = {}
for _, m in ipairs(matches) do
  local open_key = prefix .. 'open:' .. m.rule .. ':' .. m.place
  local event_id = redis.call('GET', open_key)
  local ev = event_id and (prefix .. 'event:' .. event_id)
  if ev and post_time - tonumber(redis.call('HGET', ev, 'last_at') or 0) > m.window then
    event_id, ev = nil, nil
  end
  if not ev and not points_at_seen then
    event_id = m.rule .. ':' .. m.place .. ':' .. redis.call('INCR', prefix .. 'event-seq')
    ev = prefix .. 'event:' .. event_id
    redis.call('HSET', ev, 'rule', m.rule, 'location', m.location, 'geonameid', m.geonameid,
      'country', m.country, 'lang', m.lang, 'first_at', post_time, 'last_at', post_time,
      'sources', 0, 'alerted', 0, 'evidence', m.evidence, 'confidence', m.confidence)
  end
  if ev then
    local ttl = m.window + grace
    redis.call('SET', open_key, event_id, 'EX', ttl)
    if post_time > tonumber(redis.call('HGET', ev, 'last_at')) then
      redis.call('HSET', ev, 'last_at', post_time)
    end
    local authors = prefix .. 'event:' .. event_id .. ':authors'
    local sources_key = prefix .. 'event:' .. event_id .. ':sources'
    local is_new = redis.call('SADD', authors, author) == 1
    local kind = nil
    if is_new then
      redis.call('HINCRBY', ev, 'sources', 1)
      local record = cjson.decode(source)
      record['copy'] = copy
      redis.call('RPUSH', sources_key, cjson.encode(record))
      redis.call('LTRIM', sources_key, -keep, -1)
      local sources = tonumber(redis.call('HGET', ev, 'sources'))
      if redis.call('HGET', ev, 'alerted') == '0' then
        if sources >= m.min_sources or trust >= trusted_tier then
          redis.call('HSET', ev, 'alerted', 1)
          kind = 'alert'
        end
      else
        kind = 'update'
      end
    end
    for _, k in ipairs({ev, authors, sources_key}) do redis.call('EXPIRE', k, ttl) end
    if kind then
      local h = redis.call('HGETALL', ev)
      local fields = {'kind', kind, 'event_id', event_id, 'sources_list',
        cjson.encode(redis.call('LRANGE', sources_key, 0, -1))}
      for i = 1, #h do fields[#fields + 1] = h[i] end
      local entry = redis.call('XADD', prefix .. 'outbox', 'MAXLEN', '~', maxlen, '*', unpack(fields))
      out[#out + 1] = {kind = kind, event_id = event_id, entry = entry}
    else
      out[#out + 1] = {kind = 'joined', event_id = event_id}
    end
  end
end
return cjson.encode({status = 'recorded', copy = copy, events = out})
"""


@dataclass(frozen=True)
class Recorded:
    """What recording one post did: 'duplicate', or the events it alerted, updated or joined."""

    status: str
    events: list[dict[str, str]]
    copy: bool = False


class EventRecorder:
    """Records matched posts in Redis (dedup, events, outbox) in one round trip per post."""

    def __init__(
        self, client: aioredis.Redis, rules: dict[str, Rule], trust: dict[str, int], keys: Keys
    ) -> None:
        self.client = client
        self.rules = rules
        self.trust = trust
        self.keys = keys
        self.script = client.register_script(_RECORD)

    def script_args(
        self, post: Post, matches: list[Match], now: float | None = None
    ) -> list[str | int | float]:
        """The record script's arguments for one post (a benchmark pipelines many of them)."""
        author = (post.author or f"post:{post.id}").lower()
        post_time = post.created_at.timestamp() if post.created_at else (now or time.time())
        trust = self.trust.get(author, 0)
        payload = [
            {
                "rule": m.rule,
                "place": str(m.geonameid)
                if m.geonameid is not None
                else m.location.lower().replace(" ", "-"),
                "location": m.location,
                "geonameid": "" if m.geonameid is None else str(m.geonameid),
                "country": m.country or "",
                "lang": m.lang or "",
                "evidence": json.dumps(m.evidence, ensure_ascii=False),
                "confidence": str(m.confidence),
                "window": self.rules[m.rule].window_minutes * 60,
                "min_sources": self.rules[m.rule].min_sources,
            }
            for m in matches
        ]
        source = {
            "author": post.author,
            "trust": trust,
            "at": post_time,
            "url": post.url,
            "post_id": post.id,
            "lang": matches[0].lang if matches else None,
        }
        return [
            self.keys.prefix,
            post.id,
            author,
            text_fingerprint(post.text),
            post_time,
            now or time.time(),
            SEEN_BUCKET_SECONDS,
            SEEN_BUCKETS,
            SEEN_TTL_SECONDS,
            json.dumps([r.id for r in post.refs]),
            json.dumps(payload, ensure_ascii=False),
            json.dumps(source, ensure_ascii=False),
            trust,
            EVENT_GRACE_SECONDS,
            OUTBOX_MAXLEN,
            MAX_SOURCES_KEPT,
            TRUSTED_TIER,
        ]

    async def record(self, post: Post, matches: list[Match], now: float | None = None) -> Recorded:
        """Dedup, event and outbox for one matched post, in one atomic round trip."""
        raw = await self.script(keys=[], args=self.script_args(post, matches, now))
        result = json.loads(raw)
        events = result.get("events") or []
        return Recorded(
            result["status"], events if isinstance(events, list) else [], bool(result.get("copy"))
        )
