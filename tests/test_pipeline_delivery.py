"""The outbox: acknowledged only once every target accepted; crashes and Redis outages lose nothing."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.outbox.alert import Alert
from bot.outbox.consumer import OutboxConsumer
from bot.posts import Post
from bot.rules import Detector
from bot.runtime.pipeline import Pipeline, build_pipeline
from bot.store.keys import Keys
from tests.redis_server import RedisServer
from tests.test_pipeline_events import post


class RecordingTarget:
    def __init__(self, name: str, failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.received: list[tuple[str, str]] = []

    async def deliver(self, entry_id: str, alert: Alert) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError(f"{self.name} is down")
        self.received.append((alert.kind, alert.event_id))


def pipeline_for(
    client: aioredis.Redis, detector: Detector, namespace: str, held_limit: int = 100
) -> Pipeline:
    pipeline = build_pipeline(detector.compiled, client, Keys(namespace))
    return Pipeline(pipeline.detector, pipeline.recorder, held_limit)


async def test_an_entry_is_acknowledged_only_after_every_target_accepted_it(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    await pipeline_for(redis_client, detector, namespace).submit(post("1", "a"))
    steady, flaky = RecordingTarget("console"), RecordingTarget("telegram", failures=1)
    dispatcher = OutboxConsumer(redis_client, Keys(namespace), [steady, flaky], "worker-1")
    await dispatcher.ensure_group()
    assert await dispatcher.pump(block_ms=10) == 1
    assert not await dispatcher.drained()  # telegram failed: the entry stays pending
    await dispatcher.reclaim(min_idle_ms=0)
    assert await dispatcher.drained()
    assert steady.received == flaky.received == [("alert", steady.received[0][1])]


async def test_entries_read_by_a_dispatcher_that_died_are_delivered_once_by_another(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    pipeline = pipeline_for(redis_client, detector, namespace)
    for i, author in enumerate(["a", "b", "c"]):
        await pipeline.submit(post(str(i), author))
    keys = Keys(namespace)
    target = RecordingTarget("console")
    dead = OutboxConsumer(redis_client, keys, [target], "dead-worker")
    await dead.ensure_group()
    # The dead worker read everything and crashed before delivering or acknowledging.
    await redis_client.xreadgroup(dead.group, "dead-worker", {keys.outbox(): ">"}, count=10)
    survivor = OutboxConsumer(redis_client, keys, [target], "survivor")
    assert await survivor.reclaim(min_idle_ms=0) == 3
    assert await survivor.reclaim(min_idle_ms=0) == 0
    assert [kind for kind, _ in target.received] == ["alert", "update", "update"]
    assert await survivor.drained()


async def test_a_redelivered_entry_is_not_sent_twice_to_a_target(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    await pipeline_for(redis_client, detector, namespace).submit(post("1", "a"))
    keys = Keys(namespace)
    target = RecordingTarget("console")
    first = OutboxConsumer(redis_client, keys, [target], "first")
    await first.ensure_group()
    [(_, entries)] = await redis_client.xreadgroup(first.group, "first", {keys.outbox(): ">"}, count=1)
    entry_id, fields = entries[0]
    assert await first.handle(entry_id, fields)
    second = OutboxConsumer(redis_client, keys, [target], "second")
    assert await second.handle(entry_id, fields)  # e.g. a reclaim racing the ack
    assert len(target.received) == 1


async def test_matches_wait_in_memory_while_redis_is_down_and_are_recorded_when_it_returns(
    tmp_path: Path, detector: Detector, namespace: str
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = aioredis.Redis.from_url(server.url, decode_responses=True, socket_timeout=2)
    try:
        pipeline = pipeline_for(client, detector, namespace)
        await pipeline.submit(post("1", "a", text="Kunduz has fallen."))
        server.stop()
        await pipeline.submit(post("2", "b", text="Taloqan has fallen."))
        await pipeline.submit(post("3", "c", text="Ghazni has fallen."))
        assert pipeline.stats.held == 2
        server.start()
        await asyncio.wait_for(pipeline.wait_held(), timeout=30)
        # A fresh server after the restart: only what was held is there, nothing was dropped.
        alerts = [Alert.from_stream(f) for _, f in await client.xrange(Keys(namespace).outbox())]
        assert sorted(a.location for a in alerts) == ["Ghazni", "Taloqan"]
        assert pipeline.stats.lost == 0
    finally:
        await client.aclose()
        server.stop()


async def test_matched_posts_beyond_the_memory_bound_are_counted_and_logged_as_lost(
    tmp_path: Path, detector: Detector, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    client = aioredis.Redis.from_url(server.url, decode_responses=True, socket_timeout=2)
    try:
        pipeline = pipeline_for(client, detector, namespace, held_limit=1)
        server.stop()
        with caplog.at_level(logging.ERROR):
            for i, city in enumerate(["Kunduz", "Taloqan", "Ghazni"]):
                await pipeline.submit(Post(id=str(i), text=f"{city} has fallen.", author="a"))
        assert (pipeline.stats.held, pipeline.stats.lost) == (1, 2)
        assert "post 1 lost" in caplog.text and "post 2 lost" in caplog.text
    finally:
        await client.aclose()
        server.stop()
