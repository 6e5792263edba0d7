"""Singletons among several processes: a role runs only in the process holding its lease.

Several `frontwatch run` processes may share one Redis (and one bot token). Each delivers from the
outbox, but Telegram answers overlapping getUpdates with 409 and X allows one stream connection per
app, so Telegram polling and every post source run in one process at a time. A `LeaseKeeper` holds
a role's lease while it can and runs the role only then: the holder renews every RENEW_SECONDS;
the others try every TRY_SECONDS, so when the holder dies (kill -9, a lost host) the lease expires
after LEASE_SECONDS and another process takes the role over within LEASE_SECONDS + TRY_SECONDS.
A clean stop releases the lease at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.sources import Emit, Source, SourceState, end_task
from bot.store.leases import Lease
from bot.telegram.polling import TelegramPolling

log = logging.getLogger(__name__)

LEASE_SECONDS = 10.0
RENEW_SECONDS = 3.0
TRY_SECONDS = 2.0
POLLING_ROLE = "telegram-polling"


@dataclass(frozen=True)
class LeaseTiming:
    lifetime: float = LEASE_SECONDS
    renew_every: float = RENEW_SECONDS
    try_every: float = TRY_SECONDS


def source_role(name: str) -> str:
    """'X stream' -> 'source:x-stream': the lease of one post source."""
    return "source:" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class LeaseKeeper:
    """Takes a role's lease when free, keeps it renewed, and runs `begin`/`end` as it gains or loses it."""

    def __init__(
        self,
        lease: Lease,
        begin: Callable[[], Awaitable[None]],
        end: Callable[[], Awaitable[None]],
        timing: LeaseTiming = LeaseTiming(),
    ) -> None:
        self.lease = lease
        self.begin = begin
        self.end = end
        self.timing = timing
        self.held = False
        self.holder_seen = ""  # who held it at our last attempt ('host-123 7'), for /status
        self._valid_until = 0.0  # monotonic time our lease surely lasts to, from the last renewal
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Try once now (a lone process starts its role at once), then keep trying or renewing."""
        await self._try()
        self._task = asyncio.create_task(self._keep(), name=f"lease-{self.lease.role}")

    async def stop(self) -> None:
        await end_task(self._task)
        self._task = None
        if self.held:
            self.held = False
            await self._end_quietly()
            with contextlib.suppress(aioredis.RedisError, OSError):
                await self.lease.release()

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.timing.renew_every if self.held else self.timing.try_every)
            if self.held:
                await self._renew()
            else:
                await self._try()

    async def _try(self) -> None:
        started = time.monotonic()
        try:
            taken = await self.lease.take()
        except (aioredis.RedisError, OSError) as exc:
            log.debug("lease %s: Redis unreachable (%s); trying again", self.lease.role, exc)
            return
        self.holder_seen = taken.value
        if not taken.ours:
            return
        self.held = True
        self._valid_until = started + self.timing.lifetime
        log.info("%s: this process runs it now (lease #%d)", self.lease.role, taken.fence)
        try:
            await self.begin()
        except Exception as exc:  # a role that cannot start is another process's chance
            log.error("%s could not start here: %s; handing it over", self.lease.role, exc)
            self.held = False
            with contextlib.suppress(aioredis.RedisError, OSError):
                await self.lease.release()

    async def _renew(self) -> None:
        started = time.monotonic()
        try:
            still_ours = await self.lease.renew()
        except (aioredis.RedisError, OSError) as exc:
            # Redis out of reach: the lease may lapse meanwhile and another process take over, so
            # the role stops once our last renewal's lifetime is over.
            still_ours = time.monotonic() < self._valid_until
            log.warning("lease %s not renewed (%s)", self.lease.role, exc)
        else:
            if still_ours:
                self._valid_until = started + self.timing.lifetime
        if not still_ours:
            log.warning("%s: lease lost to another process; stopping it here", self.lease.role)
            self.held, self.holder_seen = False, ""  # who holds it now: the next attempt says
            await self._end_quietly()

    async def _end_quietly(self) -> None:
        try:
            await self.end()
        except Exception as exc:  # stopping must finish whatever the role's stop raised
            log.warning("%s did not stop cleanly: %s", self.lease.role, exc)

    def standby_state(self, name: str) -> SourceState:
        holder = self.holder_seen.rsplit(" ", 1)[0] if self.holder_seen else "no process yet"
        return SourceState(name, True, f"standby: run by {holder}", standby=True)


class LeasedSource:
    """A post source run only by the process holding its lease; a fresh source at every taking."""

    def __init__(
        self,
        name: str,
        build: Callable[[list[str]], Source],
        accounts: list[str],
        lease: Lease,
        timing: LeaseTiming = LeaseTiming(),
    ) -> None:
        self.name = name
        self.build = build
        self.accounts = accounts
        self.running: Source | None = None
        self._emit: Emit | None = None
        self.keeper = LeaseKeeper(lease, self._begin, self._end, timing)

    async def start(self, emit: Emit) -> None:
        self._emit = emit
        await self.keeper.start()

    async def _begin(self) -> None:
        if self._emit is None:
            raise RuntimeError("started before start(emit)")
        source = self.build(self.accounts)
        await source.start(self._emit)
        self.running = source

    async def _end(self) -> None:
        source, self.running = self.running, None
        if source is not None:
            await source.stop()

    async def watch(self, accounts: list[str]) -> None:
        self.accounts = accounts
        if self.running is not None:
            await self.running.watch(accounts)

    async def stop(self) -> None:
        await self.keeper.stop()

    def state(self) -> SourceState:
        if self.running is not None:
            return self.running.state()
        return self.keeper.standby_state(self.name)


class LeasedPolling:
    """Telegram update polling, by the process holding its lease (no 409s from overlapping polls)."""

    def __init__(self, polling: TelegramPolling, lease: Lease, timing: LeaseTiming = LeaseTiming()) -> None:
        self.polling = polling
        self.name = polling.name
        self.keeper = LeaseKeeper(lease, polling.start, polling.stop, timing)

    async def start(self) -> None:
        await self.keeper.start()

    async def stop(self) -> None:
        await self.keeper.stop()

    def state(self) -> SourceState:
        if self.keeper.held:
            return self.polling.state()
        return self.keeper.standby_state(self.name)
