"""`frontwatch replay` and `frontwatch demo`: the whole pipeline over a file of posts, to the console."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.outbox.consumer import Dispatcher, Target, consumer_name
from bot.posts import Post
from bot.rules import Detector
from bot.runtime.pipeline import Pipeline, PipelineStats
from bot.runtime.scheduler import build_scheduler
from bot.store.connection import connect
from bot.store.events import EventRecorder
from bot.store.keys import Keys
from bot.telegram.delivery import TelegramTarget, telegram_bot
from bot.telegram.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECONDS = 60.0
# While draining, entries another (dead) run read but never acknowledged are taken over after this.
DRAIN_RECLAIM_IDLE_MS = 2_000


@dataclass
class ReplayResult:
    stats: PipelineStats
    delivered: int
    drained: bool


async def run_replay(
    posts: Iterable[Post],
    detector: Detector,
    redis_url: str | None,
    targets: list[Target],
    speed: float | None = None,
    prefix: str = "fw:",
    telegram: Settings | None = None,
    embedded_db: Path | None = None,
) -> ReplayResult:
    """Replay posts; with `telegram` settings, alerts also go to the chats subscribed in that namespace."""
    client, embedded = await connect(redis_url, embedded_db)
    keys = Keys(prefix)
    bot = telegram_bot(telegram) if telegram else None
    if bot is not None and telegram is not None:
        await bot.initialize()
        store = SubscriptionStore(
            client, Keys(telegram.frontwatch_namespace), telegram.max_subscriptions_per_chat
        )
        targets = [*targets, TelegramTarget(bot, store, client, keys)]
    rules = {r.id: r for r in detector.compiled.source.rules}
    pipeline = Pipeline(detector, EventRecorder(client, rules, detector.compiled.trust, keys))
    dispatcher = Dispatcher(client, keys, targets, consumer_name())
    scheduler = build_scheduler(dispatcher)
    stop = asyncio.Event()
    try:
        await dispatcher.ensure_group()
        await dispatcher.reclaim(min_idle_ms=DRAIN_RECLAIM_IDLE_MS)  # what a crashed run left behind
        delivering = asyncio.create_task(dispatcher.run(stop))
        scheduler.start()
        previous = None
        for post in posts:
            if speed and post.created_at and previous is not None:
                gap = (post.created_at - previous).total_seconds() / speed
                if gap > 0:
                    await asyncio.sleep(gap)
            previous = post.created_at or previous
            await pipeline.submit(post)
        await pipeline.wait_held()
        drained = await _drain(dispatcher)
        stop.set()
        await delivering
        return ReplayResult(pipeline.stats, dispatcher.delivered, drained)
    finally:
        stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if bot is not None:
            await bot.shutdown()
        await client.aclose()
        if embedded:
            embedded.close()


async def _drain(dispatcher: Dispatcher) -> bool:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    last_reclaim = 0.0
    while time.monotonic() < deadline:
        if await dispatcher.drained():
            return True
        if time.monotonic() - last_reclaim > 1.0:
            await dispatcher.reclaim(min_idle_ms=DRAIN_RECLAIM_IDLE_MS)
            last_reclaim = time.monotonic()
        await asyncio.sleep(0.05)
    log.warning(
        "the outbox still holds undelivered alerts after %.0f s; they stay for the next run",
        DRAIN_TIMEOUT_SECONDS,
    )
    return False
