"""What each Telegram chat follows, its settings, and which chats an alert goes to. All in Redis.

A chat follows things: everything, a rule, a country or a place. It also has settings that narrow
what it gets: languages (empty: all), a minimum number of sources, and a mute until a time; and
settings for how alerts arrive: the forum topic they go to, quiet hours in the chat's time zone
(alerts then arrive without a sound) and the language the bot speaks there. Each followed thing is
indexed by a set of chat ids, so finding an alert's chats is one SUNION.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis.asyncio as aioredis

from bot.outbox.alert import Alert
from bot.store.keys import Keys

Kind = Literal["all", "rule", "country", "place"]
KINDS: tuple[Kind, ...] = ("all", "rule", "country", "place")
# A field of the chat's hash: "muted:<geonameid>" -> until when alerts about that place are muted.
MUTED_PLACE_FIELD = "muted:"


@dataclass(frozen=True)
class Subscription:
    kind: Kind
    value: str  # "*" for all, a rule id, an ISO country code, a geonameid (or a place name)
    label: str  # what the chat sees: "Afghanistan", "Mazar-i-Sharif"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass
class ChatSettings:
    chat_id: int
    chat_type: str = "private"
    title: str = ""
    languages: set[str] = field(default_factory=set)
    min_sources: int = 1
    muted_until: float = 0.0
    muted_places: dict[str, float] = field(default_factory=dict)  # geonameid -> until (epoch)
    ui_language: str = ""  # chosen with /language; empty: the user's Telegram language
    telegram_language: str = ""  # the language_code of the user who subscribed the chat
    thread_id: int = 0  # the forum topic alerts go to (0: the chat itself)
    quiet: str = ""  # "22:00-07:00": alerts arrive silently then, in the chat's time zone
    timezone: str = ""  # an IANA name ("Asia/Kabul"); empty: UTC

    def muted(self, now: float | None = None) -> bool:
        return self.muted_until > (now if now is not None else time.time())

    def place_muted(self, geonameid: int | None, now: float | None = None) -> bool:
        now = now if now is not None else time.time()
        return geonameid is not None and self.muted_places.get(str(geonameid), 0.0) > now

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def silent(self, now: float | None = None) -> bool:
        """Whether it is the chat's quiet hours now (a span may cross midnight: 22:00-07:00)."""
        span = quiet_span(self.quiet)
        if span is None:
            return False
        local = datetime.fromtimestamp(now if now is not None else time.time(), self.zone())
        minute = local.hour * 60 + local.minute
        start, end = span
        return start <= minute < end if start < end else minute >= start or minute < end

    def wants(self, alert: Alert, now: float | None = None) -> bool:
        """Muted: nothing. Languages: an event reported in one of them by any source. min_sources
        counts independent sources (a retweet or a copy is not one)."""
        if self.muted(now) or self.place_muted(alert.geonameid, now):
            return False
        reported_in = {alert.lang, *(s.lang for s in alert.sources_list)}
        if self.languages and not self.languages & reported_in:
            return False
        return alert.independent_sources >= self.min_sources


def quiet_span(text: str) -> tuple[int, int] | None:
    """'22:00-07:00' -> minutes after midnight (1320, 420); None when unset or unreadable."""
    try:
        start, end = (datetime.strptime(part.strip(), "%H:%M") for part in text.split("-"))
    except ValueError:
        return None
    span = (start.hour * 60 + start.minute, end.hour * 60 + end.minute)
    return span if span[0] != span[1] else None


class Added(Enum):
    ADDED = "added"
    ALREADY = "already"
    LIMIT = "limit"


class SubscriptionStore:
    def __init__(self, client: aioredis.Redis, keys: Keys, limit_per_chat: int) -> None:
        self.client = client
        self.keys = keys
        self.limit = limit_per_chat

    async def add(self, chat: ChatSettings, sub: Subscription) -> Added:
        subs_key = self.keys.chat_subscriptions(chat.chat_id)
        if await self.client.hexists(subs_key, sub.key):
            return Added.ALREADY
        if await self.client.hlen(subs_key) >= self.limit:
            return Added.LIMIT
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(subs_key, sub.key, sub.label)
            pipe.sadd(self.keys.subscribers(sub.kind, sub.value), chat.chat_id)
            pipe.sadd(self.keys.chats(), chat.chat_id)
            pipe.hsetnx(self.keys.chat(chat.chat_id), "type", chat.chat_type)
            pipe.hset(self.keys.chat(chat.chat_id), mapping={"title": chat.title, "thread": chat.thread_id})
            if chat.telegram_language:
                pipe.hset(self.keys.chat(chat.chat_id), "telegram_language", chat.telegram_language)
            await pipe.execute()
        return Added.ADDED

    async def remove(self, chat_id: int, sub_key: str | None = None) -> list[str]:
        """Stop following one thing ("country:AF"), or everything when sub_key is None; returns labels."""
        current = await self.subscriptions(chat_id)
        gone = [s for s in current if sub_key is None or s.key == sub_key]
        if not gone:
            return []
        async with self.client.pipeline(transaction=True) as pipe:
            for sub in gone:
                pipe.hdel(self.keys.chat_subscriptions(chat_id), sub.key)
                pipe.srem(self.keys.subscribers(sub.kind, sub.value), chat_id)
            if len(gone) == len(current):
                pipe.srem(self.keys.chats(), chat_id)
            await pipe.execute()
        return [s.label for s in gone]

    async def forget_chat(self, chat_id: int) -> None:
        """A chat that blocked the bot or no longer exists: drop everything it followed."""
        await self.remove(chat_id)
        await self.client.delete(self.keys.chat(chat_id))

    async def move_chat(self, old_id: int, new_id: int) -> None:
        """A group upgraded to a supergroup has a new id: what it follows, its mutes and settings move
        there (what the new id had set already is kept), and the old id is forgotten."""
        subs = cast(dict[str, str], await self.client.hgetall(self.keys.chat_subscriptions(old_id)))
        settings = cast(dict[str, str], await self.client.hgetall(self.keys.chat(old_id)))
        async with self.client.pipeline(transaction=True) as pipe:
            for field_name, value in settings.items():
                pipe.hsetnx(self.keys.chat(new_id), field_name, value)
            pipe.hset(self.keys.chat(new_id), "type", "supergroup")
            for key, label in subs.items():
                kind, _, value = key.partition(":")
                pipe.hsetnx(self.keys.chat_subscriptions(new_id), key, label)
                pipe.srem(self.keys.subscribers(kind, value), old_id)
                pipe.sadd(self.keys.subscribers(kind, value), new_id)
            if subs:
                pipe.sadd(self.keys.chats(), new_id)
            pipe.srem(self.keys.chats(), old_id)
            pipe.delete(self.keys.chat(old_id), self.keys.chat_subscriptions(old_id))
            await pipe.execute()
        await self.bump("chats_migrated")

    async def subscriptions(self, chat_id: int) -> list[Subscription]:
        raw = cast(dict[str, str], await self.client.hgetall(self.keys.chat_subscriptions(chat_id)))
        subs = []
        for key, label in sorted(raw.items()):
            kind, _, value = key.partition(":")
            if kind in KINDS:
                subs.append(Subscription(kind, value, label))
        return subs

    async def settings(self, chat_id: int) -> ChatSettings:
        return _settings_from(
            chat_id, cast(dict[str, str], await self.client.hgetall(self.keys.chat(chat_id)))
        )

    async def mute_place(self, chat_id: int, geonameid: int, until: float) -> None:
        """No alerts about this place in this chat until `until` (the 'mute this place' button)."""
        await self.client.hset(self.keys.chat(chat_id), f"{MUTED_PLACE_FIELD}{geonameid}", until)

    async def update_settings(self, chat_id: int, **fields: str | int | float) -> None:
        await self.client.hset(self.keys.chat(chat_id), mapping=dict(fields))  # type: ignore[arg-type]

    async def chats_for(self, alert: Alert, now: float | None = None) -> list[ChatSettings]:
        """The chats whose subscriptions and settings take this alert.

        An opt-in rule's alerts (city-contested) reach only the chats that follow that rule by name:
        following a country or everything means the strict reports.
        """
        sets = [self.keys.subscribers("rule", alert.rule)]
        if not alert.opt_in:
            sets.append(self.keys.subscribers("all", "*"))
            if alert.country:
                sets.append(self.keys.subscribers("country", alert.country))
            if alert.geonameid is not None:
                sets.append(self.keys.subscribers("place", str(alert.geonameid)))
        chat_ids = sorted(int(c) for c in await self.client.sunion(sets))
        if not chat_ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for chat_id in chat_ids:
                pipe.hgetall(self.keys.chat(chat_id))
            rows = await pipe.execute()
        chats = []
        for chat_id, raw in zip(chat_ids, rows, strict=True):
            chat = _settings_from(chat_id, raw)
            if chat.wants(alert, now):
                chats.append(chat)
        return chats

    async def count_chats(self) -> int:
        return int(await self.client.scard(self.keys.chats()))

    async def bump(self, counter: str, by: int = 1) -> None:
        await self.client.hincrby(self.keys.counter("telegram"), counter, by)

    async def counters(self) -> dict[str, int]:
        raw = cast(dict[str, str], await self.client.hgetall(self.keys.counter("telegram")))
        return {k: int(v) for k, v in raw.items()}


def _settings_from(chat_id: int, raw: dict[str, str]) -> ChatSettings:
    return ChatSettings(
        chat_id=chat_id,
        chat_type=raw.get("type", "private"),
        title=raw.get("title", ""),
        languages={lang for lang in raw.get("languages", "").split(",") if lang},
        min_sources=int(raw.get("min_sources", 1)),
        muted_until=float(raw.get("muted_until", 0)),
        muted_places={
            k.removeprefix(MUTED_PLACE_FIELD): float(v)
            for k, v in raw.items()
            if k.startswith(MUTED_PLACE_FIELD)
        },
        ui_language=raw.get("ui_language", ""),
        telegram_language=raw.get("telegram_language", ""),
        thread_id=int(raw.get("thread", 0) or 0),
        quiet=raw.get("quiet", ""),
        timezone=raw.get("timezone", ""),
    )
