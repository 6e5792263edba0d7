"""`frontwatch run` as an operator starts it: each X_MODE, X out of reach, and starts that fail.

The real python-telegram-bot and tweepy run against the fake Bot API and the fake X API; Redis is real.
"""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from bot.config import Settings
from bot.runtime.run import StartupFailed, run_bot
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, eventually, run_cli, telegram_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import BEARER_TOKEN, FakeX

BILAL = ("BilalSarwary", "2001")
REPORT = "BREAKING: Mazar-i-Sharif has fallen to the Taliban after government forces surrendered."


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@asynccontextmanager
async def running(settings: Settings, redis_url: str) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis_url, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def follow_afghanistan(redis_client: aioredis.Redis, namespace: str, chat_id: int) -> None:
    await SubscriptionStore(redis_client, Keys(namespace), 25).add(
        ChatSettings(chat_id), Subscription("country", "AF", "Afghanistan")
    )


async def test_poll_mode_reads_the_watched_timelines_and_a_report_reaches_a_subscribed_chat(
    redis_url: str, namespace: str, redis_client: aioredis.Redis
) -> None:
    async with FakeTelegram() as telegram, FakeX() as x:
        x.add_user(BILAL[1], BILAL[0])
        telegram.add_chat(100, "private")
        await follow_afghanistan(redis_client, namespace, 100)
        # Watching @BilalSarwary began before this start: the poller resumes after the post it last read.
        seen = x.post(BILAL[1], "Heavy clashes reported on the road to Mazar.")
        await redis_client.hset(Keys(namespace).x_since_ids(), "bilalsarwary", str(seen["id"]))
        x.post(BILAL[1], REPORT, lang="en")
        settings = telegram_settings(
            telegram.url,
            telegram.token,
            frontwatch_namespace=namespace,
            x_mode="poll",
            x_bearer_token=SecretStr(BEARER_TOKEN),
            x_api_base=x.url,
            health_port=0,
        )
        async with running(settings, redis_url):
            await eventually(
                lambda: any("Mazar-i-Sharif" in m for m in telegram.messages_to(100)),
                timeout=30,
                what="the alert from a polled timeline",
            )
        assert x.calls(f"/2/users/{BILAL[1]}/tweets"), "the timeline was requested"
        [alert] = telegram.messages_to(100)
        assert "@BilalSarwary" in alert


async def test_with_x_out_of_reach_start_is_answered_and_healthz_says_why(
    redis_url: str, namespace: str
) -> None:
    health_port = closed_port()
    async with FakeTelegram() as telegram:
        telegram.add_chat(300, "private")
        settings = telegram_settings(
            telegram.url,
            telegram.token,
            frontwatch_namespace=namespace,
            x_mode="stream",
            x_bearer_token=SecretStr(BEARER_TOKEN),
            x_api_base=f"http://127.0.0.1:{closed_port()}",
            health_port=health_port,
        )
        async with running(settings, redis_url) as bot:
            await eventually(lambda: bool(telegram.calls("getUpdates")) or bot.done(), what="polling")
            telegram.send_user_message(300, "/start")
            await eventually(lambda: bool(telegram.messages_to(300)), what="the reply to /start")
            url = f"http://127.0.0.1:{health_port}/healthz"

            async def says_down() -> bool:
                status, body = await asyncio.to_thread(get_json, url)
                # 200: a post source down degrades the bot; restarting it would mend nothing
                return status == 200 and "cannot sync stream rules with X" in json.dumps(body)

            await eventually_async(says_down, what="/healthz to name the X problem")
        assert "frontwatch" in telegram.messages_to(300)[0]


async def eventually_async(
    condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def our_tasks() -> set[asyncio.Task[object]]:
    """Tasks of the bot (ours, PTB's, tweepy's, apscheduler's), not of the fake servers."""

    def served_by_a_fake(task: asyncio.Task[object]) -> bool:
        code = getattr(task.get_coro(), "cr_code", None)
        return code is not None and "/aiohttp/web" in code.co_filename

    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not served_by_a_fake(t)}


@pytest.mark.parametrize("what", ["refused token", "Redis out of reach"])
async def test_a_failed_start_names_its_cause_and_leaves_nothing_running(
    what: str, redis_url: str, namespace: str
) -> None:
    async with FakeTelegram() as telegram:
        token = "999999:refused-token-refused-token" if what == "refused token" else telegram.token
        settings = telegram_settings(telegram.url, token, frontwatch_namespace=namespace, health_port=0)
        url = redis_url if what == "refused token" else f"redis://127.0.0.1:{closed_port()}/0"
        before = our_tasks()
        with pytest.raises(StartupFailed) as failed:
            await run_bot(settings, REPO / "rules.yaml", url, asyncio.Event())
        await asyncio.sleep(0.1)
        assert our_tasks() - before == set()
    message = str(failed.value)
    assert "\n" not in message and "refused-token" not in message
    expected = "Telegram refused TELEGRAM_BOT_TOKEN" if what == "refused token" else "cannot reach Redis"
    assert expected in message


@pytest.mark.parametrize("what", ["refused token", "Redis out of reach"])
async def test_the_run_command_says_one_line_and_exits_1_when_it_cannot_start(
    what: str, redis_url: str, namespace: str
) -> None:
    async with FakeTelegram() as telegram:
        env = {
            "TELEGRAM_BOT_TOKEN": "999999:refused-token-refused-token"
            if what == "refused token"
            else telegram.token,
            "TELEGRAM_API_BASE": telegram.url,
            "REDIS_URL": redis_url if what == "refused token" else f"redis://127.0.0.1:{closed_port()}/0",
            "FRONTWATCH_NAMESPACE": namespace,
            "HEALTH_PORT": "0",
        }
        result = await asyncio.to_thread(run_cli, "run", env=env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("frontwatch: not started: "), result.stderr
    assert "Traceback" not in result.stderr and "refused-token" not in result.stderr
