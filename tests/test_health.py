"""/healthz and /metrics of the running bot: unhealthy while Redis is away, counters that move."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from bot.runtime.run import run_bot
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, eventually, streaming_bot_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX
from tests.redis_server import RedisServer
from tests.test_x_e2e import WATCHED, scenario


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
        for handle, user_id in WATCHED.items():
            x.add_user(user_id, handle)
        telegram.add_chat(100, "private")
        store = SubscriptionStore(
            aioredis.Redis.from_url(redis.url, decode_responses=True), Keys(namespace), 25
        )
        await store.add(ChatSettings(100), Subscription("all", "*", "all"))
        await store.client.aclose()
        settings = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace, health_port=port)
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis.url, stop))
        try:
            await x.wait_for_stream(timeout=60)
            status, body = await get(f"{base}/healthz")
            assert status == 200 and '"status": "ok"' in body

            _, before = await get(f"{base}/metrics")
            posts = scenario()  # the seed scenario's posts by watched accounts
            for p in posts:
                x.post(WATCHED[p["author"]], p["text"], lang=p["lang"], created_at=p["created_at"])
            await eventually(
                lambda: any("🇦🇫" in m.split("\n")[0] for m in telegram.messages_to(100)), what="the alert"
            )
            await asyncio.sleep(1.5)
            _, after = await get(f"{base}/metrics")
            assert value(after, 'frontwatch_posts_total{source="x-stream"}') - value(
                before, 'frontwatch_posts_total{source="x-stream"}'
            ) == len(posts)
            for series in (
                'frontwatch_matches_total{rule="city-fallen"}',
                'frontwatch_telegram_sent_total{kind="alert"}',
                "frontwatch_detection_to_delivery_seconds_count",
            ):
                assert value(after, series) > value(before, series), series

            redis.stop()
            status, body = await get(f"{base}/healthz")
            assert status == 503 and "Redis unreachable" in body
            redis.start()
            for _ in range(200):  # reconnection after a restart may wait out a back-off step
                status, body = await get(f"{base}/healthz")
                if status == 200:
                    break
                await asyncio.sleep(0.1)
            assert status == 200, body
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
            redis.stop()
