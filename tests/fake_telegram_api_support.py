"""What the test_fake_telegram_api_* modules share: the chats, a manual clock, the fake and bot
fixtures, and helpers to wait and to send raw HTTP requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from tests.fakes.telegram_api import FakeTelegram

PRIVATE = 42
OTHER_PRIVATE = 43
GROUP = -5001
CHANNEL = -1001234567
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Follow Afghanistan", callback_data="sub:AF")]])


class ManualClock:
    """A monotonic clock the test moves, so flood limits are exercised without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # python-telegram-bot 22 warns that RetryAfter.retry_after will become a timedelta; opt in now.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(name="clock")
def fixture_clock() -> ManualClock:
    return ManualClock()


def _with_chats(server: FakeTelegram) -> FakeTelegram:
    server.add_chat(PRIVATE)
    server.add_chat(OTHER_PRIVATE)
    server.add_chat(GROUP, "group", title="Watchers")
    server.add_chat(CHANNEL, "channel", title="Alerts", username="fw_alerts")
    return server


@pytest.fixture(name="fake")
async def fixture_fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(clock=clock) as server:
        yield _with_chats(server)


@pytest.fixture(name="bot")
async def fixture_bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with fake.bot() as client:
        yield client


async def _until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _raw(fake: FakeTelegram, http_method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(http_method, f"{fake.url}{path}", **kwargs) as response,
    ):
        return response.status, await response.json()
