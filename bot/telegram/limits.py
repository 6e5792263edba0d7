"""Telegram's flood limits for every request the bot makes, in one place.

python-telegram-bot's AIORateLimiter keeps the overall rate (30 messages a second) and the group
rate (20 a minute). Telegram also asks for no more than one message a second to one chat
(core.telegram.org/bots/faq, "broadcasting to users"); this subclass adds that, for alerts and for
command replies alike, by sending to each chat one request at a time, a second apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# The limiter is a leaky bucket: with capacity 30 it would let 30 go at once and 30 more within the
# same second. Telegram counts any second, so the bucket holds one request and leaks at a steady
# pace, a little under the limit to leave room for network jitter.
_SAFETY = 0.98
PER_CHAT_INTERVAL_SECONDS = 1.0
# A 429 that still comes through is waited out this many times before the caller sees it.
RETRY_AFTER_RETRIES = 2
_POSTS_INTO_CHAT = frozenset(
    {"sendMessage", "editMessageText", "sendPhoto", "sendDocument", "forwardMessage", "copyMessage"}
)


class PacedRateLimiter(AIORateLimiter):
    """`speedup` > 1 runs every limit that many times faster: for tests against a fake server whose
    clock runs as fast, so a minute's group limit is checked in two seconds."""

    def __init__(self, speedup: float = 1.0) -> None:
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1 / (OVERALL_PER_SECOND * _SAFETY) / speedup,
            group_max_rate=1,
            group_time_period=60 / (GROUP_PER_MINUTE * _SAFETY) / speedup,
            max_retries=RETRY_AFTER_RETRIES,
        )
        self._per_chat_interval = PER_CHAT_INTERVAL_SECONDS / speedup
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._last_done: dict[str, float] = {}

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
        if chat is None or endpoint not in _POSTS_INTO_CHAT:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        key = str(chat)
        async with self._chat_locks.setdefault(key, asyncio.Lock()):
            wait = self._last_done.get(key, 0.0) + self._per_chat_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            finally:
                self._last_done[key] = time.monotonic()
                self._forget_idle_chats()

    def _forget_idle_chats(self) -> None:
        if len(self._last_done) < 10_000:
            return
        horizon = time.monotonic() - 10 * self._per_chat_interval
        for key in [
            k for k, t in self._last_done.items() if t < horizon and not self._chat_locks[k].locked()
        ]:
            del self._last_done[key], self._chat_locks[key]
