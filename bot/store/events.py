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
from pathlib import Path
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field, field_validator

from bot.posts import Post
from bot.rules import Match
from bot.rules.engine import Denial
from bot.rules.schema import Rule, RulesFile
from bot.sources.accounts import author_key
from bot.store.keys import (
    EVENT_GRACE_SECONDS,
    ID,
    SEEN_BUCKET_SECONDS,
    SEEN_BUCKETS,
    SEEN_TTL_SECONDS,
    Keys,
)

# An author at this trust tier (a neutral official body) raises the alert alone, whatever
# min_sources says; a party to the conflict never does.
TRUSTED_TIER = 3
# The first report's text kept with its source, for the alert to quote.
SOURCE_TEXT_CHARS = 400
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


_RECORD_SCRIPT = (Path(__file__).parent / "record.lua").read_text(encoding="utf-8")
_CONTEST_SCRIPT = (Path(__file__).parent / "contest.lua").read_text(encoding="utf-8")
# A denial contests an alert when it comes from a party to the conflict or an author this trusted.
CONTEST_TRUST = 2


class RecordedEvent(BaseModel):
    """One event the post touched: alerted, updated, or joined without a new author."""

    kind: Literal["alert", "update", "joined"]
    event_id: str
    entry: str | None = None  # the outbox entry id, for an alert or an update
    folded: str = ""  # the post was shown but not counted: 'copy', 'retweet', 'outlet'


class Recorded(BaseModel):
    """What recording one post did: 'duplicate', or the events it alerted, updated or joined."""

    status: Literal["duplicate", "recorded"]
    events: list[RecordedEvent] = []
    copy_of_earlier: bool = Field(False, alias="copy")

    @field_validator("events", mode="before")
    @classmethod
    def _empty_lua_table(cls, value: object) -> object:
        return [] if value == {} else value  # cjson encodes an empty Lua table as {}


@dataclass(frozen=True)
class Speaker:
    """Who an account is, from rules.yaml's account groups."""

    trust: int = 0
    role: str = "other"
    side: str | None = None
    outlet: str | None = None


def speakers_from(rules: RulesFile) -> dict[str, Speaker]:
    """Handle (lower case, no '@') -> Speaker; an account in several groups keeps its highest trust."""
    speakers: dict[str, Speaker] = {}
    for group in rules.account_groups.values():
        speaker = Speaker(group.trust, group.role, group.side, group.outlet)
        for handle in group.accounts:
            key = author_key(handle)
            if key not in speakers or speakers[key].trust < speaker.trust:
                speakers[key] = speaker
    return speakers


class EventRecorder:
    """Records matched posts in Redis (dedup, events, outbox) in one round trip per post."""

    def __init__(
        self, client: aioredis.Redis, rules: dict[str, Rule], speakers: dict[str, Speaker], keys: Keys
    ) -> None:
        self.client = client
        self.keys = keys
        self.rules = rules
        self.speakers = speakers
        self.script = client.register_script(_RECORD_SCRIPT)
        self.contest_script = client.register_script(_CONTEST_SCRIPT)

    def use_rules(self, rules: dict[str, Rule], speakers: dict[str, Speaker]) -> None:
        """New rules after a reload: windows, min_sources and who speaks apply to the next post."""
        self.rules, self.speakers = rules, speakers

    def script_keys(self, matches: list[Match]) -> list[str]:
        """The record script's KEYS (see record.lua): templates, then each match's open-event key."""
        k = self.keys
        return [
            k.seen_bucket(ID),
            k.event_seq(),
            k.event(ID),
            k.event_authors(ID),
            k.event_sources(ID),
            k.outbox(),
            k.event_voices(ID),
            *(k.open_event(m.rule, _place(m)) for m in matches),
        ]

    def script_args(
        self, post: Post, matches: list[Match], now: float | None = None
    ) -> list[str | int | float]:
        """The record script's arguments for one post (a benchmark pipelines many of them)."""
        author = (post.author or f"post:{post.id}").lower()
        post_time = post.created_at.timestamp() if post.created_at else (now or time.time())
        speaker = self.speakers.get(author, Speaker())
        payload = [
            {
                "rule": m.rule,
                "place": _place(m),
                "location": m.location,
                "geonameid": "" if m.geonameid is None else str(m.geonameid),
                "country": m.country or "",
                "lang": m.lang or "",
                "evidence": json.dumps(m.evidence, ensure_ascii=False),
                "confidence": str(m.confidence),
                "window": self.rules[m.rule].window_minutes * 60,
                "min_sources": self.rules[m.rule].min_sources,
                "confirm_sources": self.rules[m.rule].confirm_sources,
                "opt_in": int(self.rules[m.rule].opt_in),
                "change": self.rules[m.rule].kind,
                "actor": m.actor or "",
            }
            for m in matches
        ]
        source = _source_record(post, speaker, post_time, matches[0].lang if matches else None)
        return [
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
            speaker.trust,
            EVENT_GRACE_SECONDS,
            MAX_SOURCES_KEPT,
            TRUSTED_TIER,
            speaker.role,
            (speaker.outlet or author).lower(),
        ]

    async def record(self, post: Post, matches: list[Match], now: float | None = None) -> Recorded:
        """Dedup, event and outbox for one matched post, in one atomic round trip."""
        raw = await self.script(keys=self.script_keys(matches), args=self.script_args(post, matches, now))
        return Recorded.model_validate_json(raw)

    async def contest(self, post: Post, denials: list[Denial]) -> list[str]:
        """A post denying places that have an alerted event: each such event is marked contested (when
        the author is a party or trusted) and updated. Returns the contested event ids."""
        author = (post.author or f"post:{post.id}").lower()
        speaker = self.speakers.get(author, Speaker())
        at = post.created_at.timestamp() if post.created_at else time.time()
        source = _source_record(post, speaker, at, post.lang)
        k = self.keys
        contested = []
        for denial in denials:
            keys = [
                k.open_event(denial.rule, _place_key(denial.place.geonameid, denial.place.name)),
                k.event(ID),
                k.event_sources(ID),
                k.outbox(),
                k.event_denials(ID),
            ]
            args: list[str | int] = [
                post.id,
                json.dumps(source, ensure_ascii=False),
                speaker.role,
                speaker.trust,
            ]
            raw = await self.contest_script(keys=keys, args=[*args, CONTEST_TRUST, MAX_SOURCES_KEPT])
            result = json.loads(raw)
            if result.get("status") == "contested":
                contested.append(str(result["event_id"]))
        return contested


def _source_record(post: Post, speaker: Speaker, at: float, lang: str | None) -> dict[str, object]:
    """What an event keeps of one source (and the alert shows): who, how trusted, when, the link."""
    return {
        "author": post.author,
        "trust": speaker.trust,
        "role": speaker.role,
        "side": speaker.side,
        "text": post.text[:SOURCE_TEXT_CHARS],
        "at": at,
        "url": post.url,
        "post_id": post.id,
        "lang": lang,
    }


def _place(m: Match) -> str:
    return _place_key(m.geonameid, m.location)


def _place_key(geonameid: int | None, name: str) -> str:
    """The event key's place part: the GeoNames id, else the name."""
    return str(geonameid) if geonameid is not None else name.lower().replace(" ", "-")
