"""Telling the admins in Telegram, once, when a source fails and when it is back, and when the month's
X read budget reaches 80% and 100%.

Several `frontwatch run` processes may share one Redis, and any may restart, so what the admins were
last told lives in Redis, not here: each check swaps a source's told state atomically (SET … GET) and
only the process whose swap changed it speaks; a budget notice is claimed once per month (SET NX).
A notice is claimed before it is sent, so it goes out at most once: a send that fails is logged by
the sender, never repeated, because an alarm that repeats teaches admins to ignore it.

A state must hold for `settle_seconds` in this process before it counts, so a reconnect that takes a
few seconds (Jetstream, a poll round) says nothing. States of sources another process runs (standby)
are skipped: their holder speaks for them. Nothing is said while the bot starts or stops (`start`,
`stop`), when sources and polling are not yet running or no longer are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from html import escape
from typing import cast

import redis.asyncio as aioredis

from bot.sources import SourceState
from bot.sources.x_timeline import BUDGET_WARNING_SHARE, budget_month, budget_resumes_on
from bot.store.keys import BUDGET_NOTICE_TTL_SECONDS, SOURCE_NOTICE_TTL_SECONDS, Keys
from bot.telegram.polling import TelegramPolling

log = logging.getLogger(__name__)

NOTICES_EVERY_SECONDS = 5.0
SETTLE_SECONDS = 30.0
OK, DOWN = "ok", "down"
# The shares of X_MONTHLY_READ_BUDGET the admins hear of, highest first.
BUDGET_SHARES = (1.0, BUDGET_WARNING_SHARE)

TellAdmins = Callable[[str], Awaitable[None]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AdminNotices:
    """Checked every few seconds by the scheduler: says each change of a source's health once."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        tell_admins: TellAdmins,
        states: Callable[[], list[SourceState]],
        x_read_budget: int | None = None,
        settle_seconds: float | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.redis = client
        self.keys = keys
        self.tell_admins = tell_admins
        self.states = states
        self.x_read_budget = x_read_budget  # None: X timelines are not polled, no budget to watch
        self.settle = SETTLE_SECONDS if settle_seconds is None else settle_seconds
        self.now = now
        self.speaking = False
        self._seen: dict[str, tuple[bool, float]] = {}  # name -> (healthy, since when, monotonic)

    def start(self) -> None:
        self.speaking = True

    def stop(self) -> None:
        self.speaking = False

    async def check(self) -> None:
        if not self.speaking:
            return
        try:
            for state in self.states():
                await self._source(state)
            if self.x_read_budget is not None:
                await self._budget(self.x_read_budget)
        except (aioredis.RedisError, OSError) as exc:  # /healthz says Redis is away; try next time
            log.debug("admin notices skipped: Redis unreachable (%s)", exc)

    async def _source(self, state: SourceState) -> None:
        if state.standby:
            self._seen.pop(state.name, None)
            return
        if not self._settled(state):
            return
        told = OK if state.healthy else DOWN
        key = self.keys.source_notice(state.name)
        before = await self.redis.set(key, told, ex=SOURCE_NOTICE_TTL_SECONDS, get=True)
        if (before or OK) == told:  # never told anything: the admins assume it works
            return
        log.info("telling the admins: %s is %s", state.name, "back" if state.healthy else "down")
        await self.tell_admins(back_text(state) if state.healthy else down_text(state))

    def _settled(self, state: SourceState) -> bool:
        now = time.monotonic()
        seen = self._seen.get(state.name)
        if seen is None or seen[0] != state.healthy:
            seen = self._seen[state.name] = (state.healthy, now)
        return now - seen[1] >= self.settle

    async def _budget(self, budget: int) -> None:
        now = self.now()
        month = budget_month(now)
        reads = int(cast(str | None, await self.redis.get(self.keys.x_reads(month))) or 0)
        crossed = [share for share in BUDGET_SHARES if reads >= budget * share]
        if not crossed:
            return
        highest, *lower = crossed
        if await self._claim(month, highest):
            await self.tell_admins(budget_text(highest, reads, budget, budget_resumes_on(now)))
        for share in lower:  # passed on the way: said by the higher notice, never afterwards
            await self._claim(month, share)

    async def _claim(self, month: str, share: float) -> bool:
        key = self.keys.budget_notice(month, round(share * 100))
        return bool(await self.redis.set(key, "1", nx=True, ex=BUDGET_NOTICE_TTL_SECONDS))


def down_text(state: SourceState) -> str:
    also = "" if state.name == TelegramPolling.name else " Telegram keeps working."
    return f"⚠️ <b>{escape(state.name)}</b> is down: {_sentence(state.detail)}{also}"


def back_text(state: SourceState) -> str:
    return f"✅ <b>{escape(state.name)}</b> is back: {_sentence(state.detail)}"


def budget_text(share: float, reads: int, budget: int, resumes_on: str) -> str:
    if share >= 1.0:
        return (
            f"⛔ <b>X read budget spent</b>: {reads:,} of {budget:,} posts read this month. "
            f"X timelines resume on {resumes_on}; Telegram keeps working."
        )
    return (
        f"⚠️ <b>X read budget at {share:.0%}</b>: {reads:,} of {budget:,} posts read this month. "
        f"X timelines stop at {budget:,} until {resumes_on}."
    )


def _sentence(text: str) -> str:
    text = escape(text)
    return text if text.endswith(".") else text + "."
