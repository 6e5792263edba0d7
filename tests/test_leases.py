"""Leases: one process at a time runs Telegram polling and each post source; another takes over when
the holder stops or dies. Real Redis; timings shortened (the defaults are 10 s / 3 s / 2 s)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from bot.runtime.leased import LeaseKeeper, LeaseTiming
from bot.store.keys import Keys
from bot.store.leases import Lease
from tests.conftest import eventually

FAST = LeaseTiming(lifetime=0.6, renew_every=0.15, try_every=0.1)


def lease(client: aioredis.Redis, namespace: str, holder: str, lifetime_ms: int = 600) -> Lease:
    return Lease(client, Keys(namespace), "telegram-polling", holder, lifetime_ms)


async def test_a_lease_is_held_by_one_process_and_says_who_holds_it(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    first, second = lease(redis_client, namespace, "host-1"), lease(redis_client, namespace, "host-2")
    taken = await first.take()
    refused = await second.take()
    assert taken.ours and not refused.ours
    assert refused.holder == "host-1" and refused.fence == taken.fence
    assert await first.renew() and not await second.renew()


async def test_a_stalled_holder_cannot_renew_or_release_the_lease_its_successor_took(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    stalled = lease(redis_client, namespace, "host-1", lifetime_ms=100)
    successor = lease(redis_client, namespace, "host-2")
    first = await stalled.take()
    await asyncio.sleep(0.2)  # the holder froze past its lease's lifetime
    second = await successor.take()
    assert second.ours and second.fence > first.fence  # a number no earlier holder had
    assert not await stalled.renew()
    await stalled.release()  # must not free the successor's lease
    assert not (await lease(redis_client, namespace, "host-3").take()).ours


class Role:
    """A singleton's start and stop, counted."""

    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def begin(self) -> None:
        self.running, self.starts = True, self.starts + 1

    async def end(self) -> None:
        self.running = False


async def test_only_one_of_three_processes_runs_the_role_and_a_clean_stop_hands_it_over_at_once(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    roles = [Role() for _ in range(3)]
    keepers = [
        LeaseKeeper(lease(redis_client, namespace, f"host-{n}"), role.begin, role.end, FAST)
        for n, role in enumerate(roles)
    ]
    for keeper in keepers:
        await keeper.start()
    await asyncio.sleep(0.5)  # several renewals and attempts later
    assert [r.running for r in roles] == [True, False, False]
    await keepers[0].stop()
    assert not roles[0].running
    await eventually(lambda: sum(r.running for r in roles) == 1, timeout=5, what="a successor")
    assert keepers[1].holder_seen.startswith("host-") and sum(r.starts for r in roles) == 2
    for keeper in keepers[1:]:
        await keeper.stop()
    assert not any(r.running for r in roles)


async def test_when_the_holder_dies_another_process_takes_over_after_the_lease_lapses(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    dead, alive = Role(), Role()
    first = LeaseKeeper(lease(redis_client, namespace, "host-1"), dead.begin, dead.end, FAST)
    second = LeaseKeeper(lease(redis_client, namespace, "host-2"), alive.begin, alive.end, FAST)
    await first.start()
    await second.start()
    assert dead.running and not alive.running
    assert first._task is not None
    first._task.cancel()  # killed: no more renewals, no release
    await eventually(lambda: alive.running, timeout=5, what="the takeover")
    assert (await redis_client.get(Keys(namespace).lease("telegram-polling")) or "").startswith("host-2 ")
    await second.stop()


async def test_a_holder_that_lost_its_lease_stops_the_role(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    role = Role()
    keeper = LeaseKeeper(lease(redis_client, namespace, "host-1"), role.begin, role.end, FAST)
    await keeper.start()
    assert role.running
    await redis_client.set(Keys(namespace).lease("telegram-polling"), "host-9 99")  # someone else's now
    await eventually(lambda: not role.running, timeout=5, what="the role stopped")
    await eventually(
        lambda: keeper.standby_state("Telegram polling").detail == "standby: run by host-9",
        what="the holder named",
    )
    await keeper.stop()
