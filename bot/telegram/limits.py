"""Telegram's flood limits for every request the bot makes, shared by every process using the token.

Telegram allows a bot token about 30 messages a second overall, one a second to one chat, and 20 a
minute to one group (core.telegram.org/bots/faq, "broadcasting to users"). Several `frontwatch run`
processes send with one token, so the limits are counted in Redis: one atomic script (pace.lua)
reserves each message's slot on Redis's clock, for all processes together. Before Redis is
attached (start-up, `getMe`) and while it is out of reach, a process keeps the same limits alone.

python-telegram-bot's AIORateLimiter counts per process only (aiolimiter in memory), which is why
this limiter is written on its BaseRateLimiter instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import redis.asyncio as aioredis
from telegram.error import RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.store.keys import Keys

log = logging.getLogger(__name__)

OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
PER_CHAT_INTERVAL_SECONDS = 1.0
# Sends admitted in any second, two under Telegram's 30: a message admitted now reaches Telegram a
# moment later (the event loop, the network), and under load those moments vary by up to ~0.1 s, so
# arrivals bunch a little. Measured against the fake Bot API's sliding window with three processes
# sending at once: 29 drew a 429 now and then, 28 none (tests/test_telegram_several_processes.py).
ADMITTED_PER_SECOND = 28
_SAFETY = ADMITTED_PER_SECOND / OVERALL_PER_SECOND  # for groups' 20 a minute too
# The most one request into a chat may take, once the limits let it go. python-telegram-bot's own
# timeouts (5 s to connect, to write, for each read) never fire on an answer that trickles in a byte
# at a time (a stalled proxy), and a send parked there would hold its chat's delivery, kept alive,
# for ever; past this deadline it fails as a network error and the delivery retries it.
REQUEST_DEADLINE_SECONDS = 30.0
# A 429 that still comes through pauses the token for its retry_after, this many times per request.
RETRY_AFTER_RETRIES = 2
_POSTS_INTO_CHAT = frozenset(
    {"sendMessage", "editMessageText", "sendPhoto", "sendDocument", "forwardMessage", "copyMessage"}
)
_PACE_SCRIPT = (Path(__file__).parents[1] / "store" / "pace.lua").read_text(encoding="utf-8")
_MICRO = 1_000_000


class Pace(Protocol):
    """Where the token's and the chats' next free times are kept."""

    async def reserve(self, chat: str, token_gap: float, chat_gap: float) -> tuple[bool, float]:
        """(True, wait): a slot in `wait` seconds is this message's. (False, wait): the chat is not due."""
        ...

    async def admit(self, chat: str, per_second: int, chat_gap: float, name: str) -> float:
        """At the slot: 0 when the message may go now (counted), else the seconds to wait first."""
        ...

    async def pause(self, seconds: float) -> None: ...


class LocalPace:
    """The limits kept in this process alone (no Redis yet, or Redis out of reach)."""

    def __init__(self) -> None:
        self.token_next = 0.0
        self.chat_next: dict[str, float] = {}
        self.sent: deque[float] = deque()  # the last second's sends
        self.chat_sent: dict[str, float] = {}

    async def reserve(self, chat: str, token_gap: float, chat_gap: float) -> tuple[bool, float]:
        now = time.monotonic()
        due = self.chat_next.get(chat, 0.0)
        if due > now:
            return False, due - now
        slot = max(now, self.token_next)
        self.token_next = slot + token_gap
        self.chat_next[chat] = slot + chat_gap
        if len(self.chat_next) > 10_000:  # chats long done are forgotten
            self.chat_next = {k: v for k, v in self.chat_next.items() if v > now}
        return True, slot - now

    async def admit(self, chat: str, per_second: int, chat_gap: float, name: str) -> float:
        now = time.monotonic()
        last = self.chat_sent.get(chat)
        if last is not None and last + chat_gap > now:
            return last + chat_gap - now
        while self.sent and self.sent[0] <= now - 1.0:
            self.sent.popleft()
        if len(self.sent) >= per_second:
            return max(0.001, self.sent[0] + 1.0 - now)
        self.sent.append(now)
        self.chat_sent[chat] = now
        if len(self.chat_sent) > 10_000:
            self.chat_sent = {k: v for k, v in self.chat_sent.items() if v > now - 60}
        return 0.0

    async def pause(self, seconds: float) -> None:
        self.token_next = max(self.token_next, time.monotonic() + seconds)


class RedisPace:
    """The limits kept in Redis, for every process sending with the token."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.keys = keys
        self._script = client.register_script(_PACE_SCRIPT)

    def _keys(self, chat: str) -> list[str]:
        k = self.keys
        return [k.telegram_pace(), k.telegram_chat_pace(chat), k.telegram_sent(), k.telegram_chat_sent(chat)]

    async def reserve(self, chat: str, token_gap: float, chat_gap: float) -> tuple[bool, float]:
        args: list[str | int] = ["reserve", round(token_gap * _MICRO), round(chat_gap * _MICRO)]
        reply: Any = await self._script(keys=self._keys(chat), args=args)
        return bool(int(reply[0])), int(reply[1]) / _MICRO

    async def admit(self, chat: str, per_second: int, chat_gap: float, name: str) -> float:
        args: list[str | int] = ["admit", per_second, round(chat_gap * _MICRO), name]
        reply: Any = await self._script(keys=self._keys(chat), args=args)
        return 0.0 if int(reply[0]) else int(reply[1]) / _MICRO

    async def pause(self, seconds: float) -> None:
        await self._script(keys=self._keys("-"), args=["pause", round(seconds * _MICRO)])


class PacedRateLimiter(BaseRateLimiter[int]):
    """`speedup` > 1 runs every limit that many times faster: for tests against a fake server whose
    clock runs as fast, so a minute's group limit is checked in two seconds."""

    def __init__(self, speedup: float = 1.0) -> None:
        self.token_gap = 1 / ADMITTED_PER_SECOND / speedup
        self.chat_gap = PER_CHAT_INTERVAL_SECONDS / speedup
        self.group_gap = 60 / (GROUP_PER_MINUTE * _SAFETY) / speedup
        # Checked at send time over the real last second; the slots above run a little slower.
        self.per_second = max(1, round(ADMITTED_PER_SECOND * speedup))
        self.request_deadline = REQUEST_DEADLINE_SECONDS
        self.local = LocalPace()
        self._name = uuid.uuid4().hex[:12]  # this limiter's sends, named apart from other processes'
        self._sends = 0
        self.shared: Pace | None = None
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._redis_down_logged = False

    def share(self, pace: Pace) -> None:
        """Count the limits in `pace` (Redis) from now on, with the other processes using the token."""
        self.shared = pace

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = data.get("chat_id")
        for attempt in range(RETRY_AFTER_RETRIES + 1):
            try:
                if chat is None or endpoint not in _POSTS_INTO_CHAT:
                    return await callback(*args, **kwargs)
                return await self._in_turn(str(chat), callback, args, kwargs)
            except RetryAfter as exc:
                if attempt == RETRY_AFTER_RETRIES:
                    raise
                seconds = _retry_seconds(exc)
                log.info("Telegram asked to wait %.0f s (429); every process pauses", seconds)
                await self._pause(seconds + 0.1)
                if chat is None or endpoint not in _POSTS_INTO_CHAT:
                    await asyncio.sleep(seconds + 0.1)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _in_turn(
        self,
        chat: str,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        # One request to a chat at a time from this process; other processes are kept apart by the pace.
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        async with lock:
            gap = self.group_gap if _is_group(chat) else self.chat_gap
            while True:  # a slot in the token's queue
                reserved, wait = await self._reserve(chat, gap)
                if wait > 0:
                    await asyncio.sleep(wait)
                if reserved:
                    break
            while (wait := await self._admit(chat, gap)) > 0:  # late wake-ups do not bunch up
                await asyncio.sleep(wait)
            try:
                async with asyncio.timeout(self.request_deadline):
                    return await callback(*args, **kwargs)
            except TimeoutError:
                log.warning(
                    "no answer from Telegram to a request for chat %s in %.0f s", chat, self.request_deadline
                )
                raise TimedOut(f"no answer from Telegram within {self.request_deadline:.0f} s") from None
            finally:
                if len(self._chat_locks) > 10_000:
                    self._chat_locks = {k: v for k, v in self._chat_locks.items() if v.locked()}

    async def _reserve(self, chat: str, chat_gap: float) -> tuple[bool, float]:
        if self.shared is not None:
            try:
                reserved = await self.shared.reserve(chat, self.token_gap, chat_gap)
                self._redis_down_logged = False
                return reserved
            except (aioredis.RedisError, OSError) as exc:
                if not self._redis_down_logged:
                    log.warning(
                        "Telegram limits kept by this process alone while Redis is unreachable (%s)", exc
                    )
                    self._redis_down_logged = True
        return await self.local.reserve(chat, self.token_gap, chat_gap)

    async def _admit(self, chat: str, chat_gap: float) -> float:
        self._sends += 1
        name = f"{self._name}:{self._sends}"
        if self.shared is not None:
            try:
                return await self.shared.admit(chat, self.per_second, chat_gap, name)
            except (aioredis.RedisError, OSError):
                pass  # _reserve has said so; this process keeps the limits alone meanwhile
        return await self.local.admit(chat, self.per_second, chat_gap, name)

    async def _pause(self, seconds: float) -> None:
        await self.local.pause(seconds)
        if self.shared is not None:
            try:
                await self.shared.pause(seconds)
            except (aioredis.RedisError, OSError) as exc:
                log.warning("could not share Telegram's wait with other processes: %s", exc)


def _retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for (PTB 22 warns that `retry_after` becomes a timedelta; both are read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return float(value) if isinstance(value, int | float) else value.total_seconds()


def _is_group(chat: str) -> bool:
    """Groups, supergroups and channels: a negative id, or a public @username (20 a minute)."""
    return chat.startswith("-") or chat.startswith("@")
