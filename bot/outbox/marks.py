"""Delivery marks that cannot expire while their holder still works on them.

A mark ('sending' in Redis, with a TTL) tells other consumers that a delivery is in progress; its
TTL is what lets a crashed consumer's work be taken over. A fan-out to many chats, or a send that
waits out Telegram's limits, can outlast any fixed TTL, so while the work goes on the mark's TTL
is renewed (and the outbox entry's idle time reset, so no one reclaims it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def kept_alive(
    client: aioredis.Redis,
    key: str,
    ttl_seconds: int,
    also: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIterator[None]:
    """Renew `key`'s TTL every third of it (and run `also`) until the block ends."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(ttl_seconds / 3)
            try:
                await client.expire(key, ttl_seconds)
                if also is not None:
                    await also()
            except (aioredis.RedisError, OSError) as exc:  # the next renewal tries again
                log.warning("could not renew delivery mark %s: %s", key, exc)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
