"""`frontwatch replay` and `frontwatch demo`: the whole pipeline over a file of posts, to the console.

With Telegram settings, the alerts also go to the chats subscribed in the live bot's namespace,
through the same application builder as `run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.outbox.consumer import OutboxConsumer, consumer_name
from bot.outbox.targets import Target
from bot.posts import Post
from bot.rules import CompiledRules, Detector, Match
from bot.rules.why import why_nothing
from bot.runtime.pipeline import PipelineStats, build_pipeline
from bot.runtime.scheduler import Scheduler, outbox_jobs
from bot.store.connection import connect
from bot.store.keys import Keys
from bot.telegram.app import build_application, connect_bot
from bot.telegram.delivery import TelegramTarget
from bot.telegram.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)

DEMO_INTRO = """\
frontwatch demo: 13 posts from 11 to 15 August 2021, when the Taliban took Mazar-i-Sharif,
replayed in about {seconds:.0f} seconds through the whole pipeline (rules, Redis dedup and events,
the outbox). Nothing is sent to Telegram{telegram}.
Watch for: an ALERT on Sharana, taken that morning; one ALERT when the first report names
Mazar-i-Sharif fallen, then UPDATEs as other sources add up, climbing the ladder 🟡 single report
-> 🟠 corroborated -> 🟣 claimed by a party -> 🔴 confirmed (a retweet and a pasted copy are shown
but folded, never counted); the ignored posts, each with why.
"""

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
    rules: CompiledRules,
    redis_url: str | None,
    targets: list[Target],
    speed: float | None = None,
    prefix: str = "fw:",
    telegram: Settings | None = None,
    embedded_db: Path | None = None,
    demo: bool = False,
    on_nothing: Callable[[Post], None] | None = None,
) -> ReplayResult:
    """Replay posts; with `telegram` settings, alerts also go to the chats subscribed in that namespace
    (each message marked as a demo when `demo`). `on_nothing` hears of each post that matched nothing."""
    async with contextlib.AsyncExitStack() as stack:
        client, embedded = await connect(redis_url, embedded_db)
        if embedded is not None:
            stack.callback(embedded.close)  # after the client below is closed (the stack unwinds in reverse)
        stack.push_async_callback(client.aclose)
        keys = Keys(prefix)
        if telegram is not None:
            app = build_application(telegram)
            await connect_bot(app, telegram)
            stack.push_async_callback(app.shutdown)
            store = SubscriptionStore(
                client, Keys(telegram.frontwatch_namespace), telegram.max_subscriptions_per_chat
            )
            admins = frozenset(telegram.admin_ids)
            targets = [*targets, TelegramTarget(app.bot, store, client, keys, demo=demo, admin_ids=admins)]
        pipeline = build_pipeline(rules, client, keys)
        consumer = OutboxConsumer(client, keys, targets, consumer_name())
        await consumer.ensure_group()
        await consumer.reclaim(min_idle_ms=DRAIN_RECLAIM_IDLE_MS)  # what a crashed run left behind
        done = asyncio.Event()
        delivering = asyncio.create_task(consumer.run(done))
        stack.push_async_callback(_finish, done, delivering)
        scheduler = Scheduler()
        outbox_jobs(scheduler, consumer)
        scheduler.start()
        stack.callback(scheduler.stop)
        await _feed(pipeline.submit, posts, speed, on_nothing)
        await pipeline.wait_held()
        drained = await _drain(consumer)
        return ReplayResult(pipeline.stats, consumer.delivered, drained)
    raise AssertionError("unreachable")


async def _feed(
    submit: Callable[[Post], Awaitable[list[Match]]],
    posts: Iterable[Post],
    speed: float | None,
    on_nothing: Callable[[Post], None] | None,
) -> None:
    previous = None
    for post in posts:
        if speed and post.created_at and previous is not None:
            gap = (post.created_at - previous).total_seconds() / speed
            if gap > 0:
                await asyncio.sleep(gap)
        previous = post.created_at or previous
        if not await submit(post) and on_nothing is not None:
            on_nothing(post)


async def _finish(done: asyncio.Event, delivering: asyncio.Task[None]) -> None:
    done.set()
    await delivering


async def _drain(consumer: OutboxConsumer) -> bool:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    last_reclaim = 0.0
    while time.monotonic() < deadline:
        if await consumer.drained():
            return True
        if time.monotonic() - last_reclaim > 1.0:
            await consumer.reclaim(min_idle_ms=DRAIN_RECLAIM_IDLE_MS)
            last_reclaim = time.monotonic()
        await asyncio.sleep(0.05)
    log.warning(
        "the outbox still holds undelivered alerts after %.0f s; they stay for the next run",
        DRAIN_TIMEOUT_SECONDS,
    )
    return False


def ignored_printer(detector: Detector, out: TextIO) -> Callable[[Post], None]:
    """For the demo: each post that raised nothing, printed with why (the engine's own reason)."""

    def print_it(post: Post) -> None:
        who = f"@{post.author}" if post.author else post.id
        text = post.text if len(post.text) <= 70 else post.text[:69] + "…"
        print(f"ignored {who}: {text!r}\n  why: {why_nothing(detector, post)}\n", file=out, flush=True)

    return print_it
