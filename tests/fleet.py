"""Several `frontwatch run` processes on one Redis, as `docker compose up --scale bot=N` runs them:
started, inspected (who holds which lease) and killed the way an operator or a crash would.
Used by tests/test_several_processes.py and bench/several_processes.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import redis.asyncio as aioredis

from bot.runtime.leased import POLLING_ROLE, source_role
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, X_BEARER_TOKEN
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX
from tests.test_x_e2e import WATCHED

X_STREAM_ROLE = source_role("X stream")


class Fleet:
    def __init__(
        self, workdir: Path, redis_url: str, namespace: str, telegram: tuple[str, str], x_url: str
    ) -> None:
        self.workdir = workdir
        self.keys = Keys(namespace)
        self.redis_url = redis_url
        telegram_url, token = telegram
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE": telegram_url,
            "REDIS_URL": redis_url,
            "FRONTWATCH_NAMESPACE": namespace,
            "RULES_PATH": str(REPO / "rules.yaml"),
            "X_MODE": "stream",
            "X_BEARER_TOKEN": X_BEARER_TOKEN,
            "X_API_BASE": x_url,
            "HEALTH_PORT": "0",
            "PYTHONPATH": str(REPO),
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        """One more `frontwatch run`, its log in workdir/bot-<n>.log."""
        log = (self.workdir / f"bot-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    async def holder(self, role: str) -> int | None:
        """The pid of the process holding a role's lease now (the holder is '<host>-<pid> <fence>')."""
        client = aioredis.Redis.from_url(self.redis_url, decode_responses=True)
        try:
            value = await client.get(self.keys.lease(role))
        finally:
            await client.aclose()
        return int(value.split(" ")[0].rsplit("-", 1)[1]) if value else None

    async def wait_for_holder(self, role: str, other_than: int | None = None, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = await self.holder(role)
            if pid is not None and pid != other_than:
                return pid
            await asyncio.sleep(0.1)
        raise AssertionError(f"no process took {role} within {timeout:.0f} s; logs in {self.workdir}")

    def kill(self, pid: int) -> None:
        """kill -9: no clean stop, no lease released."""
        os.kill(pid, signal.SIGKILL)
        next(p for p in self.processes if p.pid == pid).wait(timeout=10)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def stop(self) -> list[int]:
        """SIGTERM to every process still running, as `docker compose down` does; their exit codes."""
        for process in self.alive():
            process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.workdir.glob("bot-*.log"))
        )


@contextlib.asynccontextmanager
async def fleet_on_fakes(
    workdir: Path, redis_url: str, namespace: str, chats: Iterable[int], jitter_tolerance: float = 0.05
) -> AsyncIterator[tuple[Fleet, FakeTelegram, FakeX]]:
    """A fleet (no process started yet) on the fake Bot API and fake X stream, the seed scenario's
    accounts known to X and `chats` subscribed to everything; every process stopped on the way out."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        async with (
            FakeTelegram(jitter_tolerance=jitter_tolerance) as telegram,
            FakeX(keepalive_seconds=0.5) as x,
        ):
            for handle, user_id in WATCHED.items():
                x.add_user(user_id, handle)
            store = SubscriptionStore(client, Keys(namespace), 25)
            for chat in chats:
                telegram.add_chat(chat, "private")
                await store.add(ChatSettings(chat), Subscription("all", "*", "everything"))
            fleet = Fleet(workdir, redis_url, namespace, (telegram.url, telegram.token), x.url)
            try:
                yield fleet, telegram, x
            finally:
                fleet.stop()
    finally:
        await client.aclose()


__all__ = ["POLLING_ROLE", "X_STREAM_ROLE", "Fleet", "fleet_on_fakes"]
