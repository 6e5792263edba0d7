"""The one scheduler for periodic work (apscheduler): outbox reclaim and trimming, rules-file checks.

Sources keep their own schedule (a timeline poll waits on X's rate-limit headers, not on a clock).
A job must be a coroutine *function*: apscheduler would run anything else in a thread, where a
coroutine it returned would be created and dropped without ever running.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbox.consumer import OutboxConsumer

log = logging.getLogger(__name__)

RECLAIM_EVERY_SECONDS = 5
# An entry read by a consumer that has said nothing for this long is taken over by another. A
# consumer working on an entry resets its idle time every DELIVERY_LOCK_SECONDS / 3 (5 s), so this
# is four missed renewals: a killed process's fan-out resumes elsewhere within about 25 s.
RECLAIM_IDLE_MS = 20_000
TRIM_EVERY_SECONDS = 60

Job = Callable[[], Awaitable[object]]


class NotACoroutineFunction(TypeError):
    """A periodic job that apscheduler would run in a thread, dropping its coroutine."""


class Scheduler:
    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    def every(self, seconds: float, job: Job, name: str) -> None:
        """Run `job()` every `seconds`; one run at a time, missed runs coalesced."""
        if not inspect.iscoroutinefunction(job):
            raise NotACoroutineFunction(f"periodic job {name!r} must be an `async def` function")
        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=name, name=name, max_instances=1, coalesce=True
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def outbox_jobs(scheduler: Scheduler, consumer: OutboxConsumer) -> None:
    """Entries of dead consumers are taken over; entries every group acknowledged are trimmed."""

    async def reclaim() -> None:
        await consumer.reclaim(min_idle_ms=RECLAIM_IDLE_MS)

    async def trim() -> None:
        removed = await consumer.trim_delivered()
        if removed:
            log.debug("outbox: %d delivered entries trimmed", removed)

    scheduler.every(RECLAIM_EVERY_SECONDS, reclaim, "outbox-reclaim")
    scheduler.every(TRIM_EVERY_SECONDS, trim, "outbox-trim")
