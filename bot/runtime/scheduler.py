"""The one scheduler for periodic work (apscheduler): outbox reclaim now; polls and reload checks later."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbox.consumer import Dispatcher

RECLAIM_EVERY_SECONDS = 30
# An entry read by a dispatcher that has said nothing for this long is taken over by another.
RECLAIM_IDLE_MS = 60_000


def build_scheduler(dispatcher: Dispatcher) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        dispatcher.reclaim,
        "interval",
        seconds=RECLAIM_EVERY_SECONDS,
        kwargs={"min_idle_ms": RECLAIM_IDLE_MS},
        id="outbox-reclaim",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
