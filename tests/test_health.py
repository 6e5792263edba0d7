"""/healthz and /metrics of the running bot: unhealthy while Redis is away, counters that move."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp

from bot.run import run_bot
from tests.conftest import REPO, streaming_bot_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX
from tests.redis_server import RedisServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def value(metrics: str, series: str) -> float:
    """A series' value in Prometheus text format (0 when it has not appeared yet)."""
    for line in metrics.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_healthz_follows_redis_and_metrics_count_posts_matches_and_alerts(
    tmp_path: Path, namespace: str
) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeTelegram() as telegram, FakeX(keepalive_seconds=0.2) as x:
        x.add_user("2001", "BilalSarwary")
        settings = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace, health_port=port)
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis.url, stop))
        try:
            await x.wait_for_stream(timeout=60)
            status, body = await get(f"{base}/healthz")
            assert status == 200 and '"status": "ok"' in body

            _, before = await get(f"{base}/metrics")
            x.post("2001", "The city of Kunduz has fallen to the Taliban.")
            await asyncio.sleep(0.5)
            _, after = await get(f"{base}/metrics")
            for series in (
                'frontwatch_posts_total{source="x-stream"}',
                'frontwatch_matches_total{rule="city-fallen"}',
            ):
                assert value(after, series) == value(before, series) + 1, series

            redis.stop()
            status, body = await get(f"{base}/healthz")
            assert status == 503 and "Redis unreachable" in body
            redis.start()
            for _ in range(50):
                status, body = await get(f"{base}/healthz")
                if status == 200:
                    break
                await asyncio.sleep(0.1)
            assert status == 200, body
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
            redis.stop()
