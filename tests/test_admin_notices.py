"""What the operator and the admins are told when a source is not running: /healthz degraded with the
reason, and one Telegram message when it fails and one when it is back (also across processes and
restarts sharing one Redis), and one at 80% and one at 100% of the month's X read budget.

The live bot runs against the fake Telegram Bot API and the fake X API; Redis is real. The stream's
two-minute limit, the notices' settling time and their interval are shortened through the module
constants the bot reads; waiting is on checks counted, never on the clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from bot.config import Settings
from bot.runtime import notices as notices_module
from bot.runtime import run as run_module
from bot.runtime.health import HealthServer
from bot.runtime.notices import AdminNotices
from bot.runtime.run import run_bot
from bot.sources import SourceState, x_stream
from bot.sources.x_stream import XStreamSource
from bot.sources.x_timeline import budget_month, budget_resumes_on
from bot.store.keys import Keys
from tests.conftest import REPO, Collected, eventually, streaming_bot_settings, telegram_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import BEARER_TOKEN, FakeX, scaled_stream_backoff
from tests.test_health import free_port

ADMIN = 4242
STREAM_PATH = "/2/tweets/search/stream"
REFUSED = "X stream: stopped: X refused the bearer token (HTTP 401); check X_BEARER_TOKEN"


class Checks:
    """Counts the admin-notice checks that finished, so a test can let several pass before it asserts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.done = 0
        original = AdminNotices.check

        async def counted(notices: AdminNotices) -> None:
            await original(notices)
            self.done += 1

        monkeypatch.setattr(AdminNotices, "check", counted)

    async def more(self, count: int = 5) -> None:
        wanted = self.done + count
        await eventually(lambda: self.done >= wanted, what=f"{count} more notice checks")


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    """Notices checked every 0.1 s and said at once; a stream without a connection for 1 s is down."""
    monkeypatch.setattr(run_module, "NOTICES_EVERY_SECONDS", 0.1)
    monkeypatch.setattr(notices_module, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(x_stream, "DOWN_AFTER_SECONDS", 1.0)
    return Checks(monkeypatch)


@asynccontextmanager
async def bot_running(settings: Settings, redis_url: str) -> AsyncIterator[str]:
    """The live bot with its health server; yields the /healthz URL."""
    port = free_port()
    settings = settings.model_copy(update={"health_port": port, "admin_ids": [ADMIN]})
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis_url, stop))
    try:
        yield f"http://127.0.0.1:{port}/healthz"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def healthz(url: str) -> tuple[int, dict[str, Any]]:
    for _ in range(100):  # the health server starts a moment after the bot task
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return response.status, json.loads(await response.text())
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


async def healthz_until(url: str, status: str) -> dict[str, Any]:
    for _ in range(300):
        code, report = await healthz(url)
        if report["status"] == status:
            assert code == (503 if status == "unhealthy" else 200), report
            return report
        await asyncio.sleep(0.1)
    raise AssertionError(f"/healthz never said {status!r}; last: {report}")


def told(telegram: FakeTelegram, what: str) -> list[str]:
    return [m for m in telegram.messages_to(ADMIN) if what in m]


async def test_a_refused_x_token_is_degraded_and_told_once_even_across_restarts_and_back_once_fixed(
    redis_url: str, namespace: str, checks: Checks
) -> None:
    async with FakeTelegram() as telegram, FakeX(keepalive_seconds=0.2) as x:
        telegram.add_chat(ADMIN, "private")
        good = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace)
        refused = good.model_copy(update={"x_bearer_token": SecretStr("revoked-token-value")})

        async with bot_running(refused, redis_url) as url:
            await eventually(lambda: bool(told(telegram, "X stream is down")), what="the down notice")
            report = await healthz_until(url, "degraded")
            assert report["problems"] == [REFUSED]
            await checks.more()

        async with bot_running(refused, redis_url) as url:  # a restart, still refused
            await healthz_until(url, "degraded")
            await checks.more()

        async with bot_running(good, redis_url) as url:  # the token fixed
            await eventually(lambda: bool(told(telegram, "X stream is back")), what="the back notice")
            await healthz_until(url, "ok")
            await checks.more()

    assert told(telegram, "X stream is down") == [
        "⚠️ X stream is down: stopped: X refused the bearer token (HTTP 401); check X_BEARER_TOKEN."
        " Telegram keeps working."
    ]
    [back] = told(telegram, "X stream is back")
    assert back.startswith("✅ X stream is back: connected;")
    assert "revoked-token-value" not in "".join(telegram.messages_to(ADMIN))


async def test_a_stream_down_past_the_limit_is_degraded_and_told_once_down_and_once_back(
    redis_url: str, namespace: str, checks: Checks
) -> None:
    async with FakeTelegram() as telegram, FakeX(keepalive_seconds=0.2) as x:
        telegram.add_chat(ADMIN, "private")
        settings = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace)
        with scaled_stream_backoff(0.01):
            async with bot_running(settings, redis_url) as url:
                await x.wait_for_stream(timeout=60)
                await healthz_until(url, "ok")
                x.fail_next(STREAM_PATH, 503, count=100_000, exact=True)
                x.drop_stream()
                await eventually(lambda: bool(told(telegram, "X stream is down")), what="the down notice")
                report = await healthz_until(url, "degraded")
                [problem] = report["problems"]
                assert problem.startswith("X stream: down: no connection since ")
                assert "(X answered HTTP 503)" in problem
                await checks.more()
                assert not told(telegram, "X stream is back")

                x.stop_failing()
                await eventually(lambda: bool(told(telegram, "X stream is back")), what="the back notice")
                await healthz_until(url, "ok")
                await checks.more()

    [down] = told(telegram, "X stream is down")
    assert "no connection since" in down and "(X answered HTTP 503)" in down
    assert len(told(telegram, "X stream is back")) == 1


async def test_a_stream_reconnecting_for_less_than_the_limit_stays_healthy_and_says_since_when() -> None:
    async with FakeX(keepalive_seconds=0.2) as x:
        x.add_user("1001", "BilalSarwary")
        source = XStreamSource(BEARER_TOKEN, x.url, ["BilalSarwary"], down_after_seconds=3600)
        with scaled_stream_backoff(0.01):
            await source.start(Collected())
            await x.wait_for_stream(timeout=10)
            x.fail_next(STREAM_PATH, 503, count=100_000, exact=True)
            x.drop_stream()
            await eventually(lambda: "HTTP 503" in source.state().detail, what="a refused reconnect")
            state = source.state()
            assert state.healthy and state.detail.startswith("reconnecting since ")
            source.down_after = 0.0  # the same outage, past the limit
            assert not source.state().healthy
            assert source.state().detail.startswith("down: no connection since ")
            await source.stop()


async def test_without_an_x_token_healthz_status_and_the_start_line_name_the_stream_and_admins_hear_once(
    redis_url: str, namespace: str, checks: Checks, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegram() as telegram:
        telegram.add_chat(ADMIN, "private")
        settings = telegram_settings(
            telegram.url, telegram.token, frontwatch_namespace=namespace, x_mode="stream"
        )
        with caplog.at_level(logging.INFO, logger="bot.runtime.run"):
            async with bot_running(settings, redis_url) as url:
                report = await healthz_until(url, "degraded")
                reason = "X_MODE=stream but X_BEARER_TOKEN is not set"
                assert report["problems"] == [f"X stream: not started: {reason}"]
                await eventually(lambda: bool(told(telegram, "X stream is down")), what="the notice")
                telegram.send_user_message(ADMIN, "/status", user_id=ADMIN)
                await eventually(lambda: bool(told(telegram, "X stream: not started")), what="/status")
                await checks.more()
    assert told(telegram, "X stream is down") == [
        f"⚠️ X stream is down: not started: {reason}. Telegram keeps working."
    ]
    assert f"sources: X stream (not started: {reason})" in caplog.text


async def test_a_spent_read_budget_stops_x_reads_degrades_healthz_and_says_when_polling_resumes(
    redis_url: str, namespace: str, redis_client: aioredis.Redis, checks: Checks
) -> None:
    async with FakeTelegram() as telegram, FakeX() as x:
        telegram.add_chat(ADMIN, "private")
        await redis_client.set(Keys(namespace).x_reads(budget_month()), 50)  # spent by another process
        settings = telegram_settings(
            telegram.url,
            telegram.token,
            frontwatch_namespace=namespace,
            x_mode="poll",
            x_bearer_token=SecretStr(BEARER_TOKEN),
            x_api_base=x.url,
            x_monthly_read_budget=50,
        )
        async with bot_running(settings, redis_url) as url:
            report = await healthz_until(url, "degraded")
            await eventually(lambda: len(telegram.messages_to(ADMIN)) == 2, what="two notices")
            await checks.more()
    resumes = budget_resumes_on()
    assert report["problems"] == [
        f"X timelines: monthly X read budget of 50 spent; polling resumes on {resumes}"
    ]
    assert sorted(telegram.messages_to(ADMIN)) == [
        f"⚠️ X timelines is down: monthly X read budget of 50 spent; polling resumes on {resumes}."
        " Telegram keeps working.",
        f"⛔ X read budget spent: 50 of 50 posts read this month. X timelines resume on {resumes};"
        " Telegram keeps working.",
    ]
    assert not x.calls("/2/users/"), "nothing read from X once the budget is spent"


class Admins:
    """tell_admins for notices without a bot: keeps what was said."""

    def __init__(self) -> None:
        self.said: list[str] = []

    async def __call__(self, html: str) -> None:
        self.said.append(html)


async def test_two_processes_on_one_redis_tell_each_change_once_and_a_standby_never_says_back(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    keys, admins = Keys(namespace), Admins()
    seen = [SourceState("X stream", False, "not started: X_MODE=stream but X_BEARER_TOKEN is not set")]
    standby = [SourceState("X stream", True, "standby: run by host-1", standby=True)]

    def process(states: list[SourceState]) -> AdminNotices:
        notices = AdminNotices(redis_client, keys, admins, lambda: list(states), settle_seconds=0)
        notices.start()
        return notices

    first, second, waiting = process(seen), process(seen), process(standby)
    for _ in range(5):
        await asyncio.gather(first.check(), second.check(), waiting.check())
    assert admins.said == [
        "⚠️ <b>X stream</b> is down: not started: X_MODE=stream but X_BEARER_TOKEN is not set."
        " Telegram keeps working."
    ]
    restarted = process(seen)
    await restarted.check()
    assert len(admins.said) == 1, "a restart does not repeat a notice already sent"

    seen[0] = SourceState("X stream", True, "connected; 0 posts, 0 reconnects, 0 malformed")
    for _ in range(5):
        await asyncio.gather(first.check(), second.check(), restarted.check(), waiting.check())
    assert admins.said[1:] == ["✅ <b>X stream</b> is back: connected; 0 posts, 0 reconnects, 0 malformed."]


async def test_a_state_must_hold_for_the_settling_time_before_admins_hear_of_it(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    admins = Admins()
    states = [SourceState("Bluesky", False, "down: connecting")]
    notices = AdminNotices(redis_client, Keys(namespace), admins, lambda: list(states), settle_seconds=3600)
    notices.start()
    for _ in range(3):
        await notices.check()
    assert admins.said == [], "a reconnect of a few seconds says nothing"
    notices.settle = 0.0
    await notices.check()
    assert len(admins.said) == 1


async def test_the_read_budget_is_told_at_80_and_100_percent_once_a_month_across_processes(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    keys, admins = Keys(namespace), Admins()
    today = [datetime(2026, 11, 20, 12, 0, tzinfo=UTC)]

    def process() -> AdminNotices:
        notices = AdminNotices(
            redis_client, keys, admins, list, x_read_budget=1000, settle_seconds=0, now=lambda: today[0]
        )
        notices.start()
        return notices

    first, second = process(), process()

    async def reads(total: int) -> list[str]:
        await redis_client.set(keys.x_reads(budget_month(today[0])), total)
        before = len(admins.said)
        for _ in range(3):
            await asyncio.gather(first.check(), second.check())
        return admins.said[before:]

    assert await reads(799) == []
    assert await reads(800) == [
        "⚠️ <b>X read budget at 80%</b>: 800 of 1,000 posts read this month."
        " X timelines stop at 1,000 until 1 December 2026."
    ]
    assert await reads(999) == []
    assert await reads(1000) == [
        "⛔ <b>X read budget spent</b>: 1,000 of 1,000 posts read this month."
        " X timelines resume on 1 December 2026; Telegram keeps working."
    ]
    assert await reads(1200) == []
    today[0] = datetime(2026, 12, 3, tzinfo=UTC)
    assert await reads(1000) == [
        "⛔ <b>X read budget spent</b>: 1,000 of 1,000 posts read this month."
        " X timelines resume on 1 January 2027; Telegram keeps working."
    ], "a new month: told again, the 80% passed on the way said by the 100% notice"
    assert await reads(1000) == []


async def test_healthz_is_503_only_when_the_bot_cannot_work_and_200_degraded_when_a_post_source_is_down(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    states = [SourceState("Telegram polling", True, "polling"), SourceState("Bluesky", True, "connected")]
    health = HealthServer(redis_client, keys.outbox(), "dispatch:telegram", lambda: list(states))
    assert (await health.check())[0] == 200 and (await health.check())[1]["status"] == "ok"

    states[1] = SourceState("Bluesky", False, "down: Jetstream unreachable")
    code, report = await health.check()
    assert (code, report["status"]) == (200, "degraded")
    assert report["problems"] == ["Bluesky: down: Jetstream unreachable"]

    states[0] = SourceState("Telegram polling", False, "failing: Telegram refused the bot token (401)")
    code, report = await health.check()
    assert (code, report["status"]) == (503, "unhealthy")
    assert report["problems"] == [
        "Telegram polling: failing: Telegram refused the bot token (401)",
        "Bluesky: down: Jetstream unreachable",
    ]
