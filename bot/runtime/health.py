"""The operator's window: GET /healthz (is the bot working?) and GET /metrics (Prometheus).

Healthy means: Redis answers, every configured source is running (connected or polling), and the outbox
holds no alert waiting longer than OUTBOX_LAG_LIMIT_SECONDS for this bot's deliveries. Bound to
127.0.0.1 by default (HEALTH_HOST, HEALTH_PORT; port 0 turns it off).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.runtime import metrics
from bot.sources import SourceState

log = logging.getLogger(__name__)

OUTBOX_LAG_LIMIT_SECONDS = 300
REDIS_PING_TIMEOUT_SECONDS = 1.0


class HealthServer:
    def __init__(
        self,
        client: aioredis.Redis,
        outbox: str,
        group: str,
        sources: Callable[[], list[SourceState]],
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.group = group
        self.sources = sources
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def check(self) -> tuple[bool, dict[str, Any]]:
        problems: list[str] = []
        report: dict[str, Any] = {}
        try:
            await self.client.ping()
            report["redis"] = "ok"
            pending, oldest_age = await self._outbox_lag()
            metrics.OUTBOX_DEPTH.set(pending)
            report["outbox_pending"] = pending
            if oldest_age > OUTBOX_LAG_LIMIT_SECONDS:
                problems.append(f"an alert has waited {oldest_age:.0f} s in the outbox")
        except (aioredis.RedisError, OSError) as exc:
            report["redis"] = "unreachable"
            problems.append(f"Redis unreachable: {exc.__class__.__name__}")
        states = self.sources()
        report["sources"] = {s.name: s.detail for s in states}
        problems += [s.line() for s in states if not s.healthy]
        report["status"] = "ok" if not problems else "unhealthy"
        if problems:
            report["problems"] = problems
        return not problems, report

    async def _outbox_lag(self) -> tuple[int, float]:
        try:
            summary: Any = await self.client.xpending(self.outbox, self.group)
        except aioredis.ResponseError:  # no group yet: nothing was ever queued for this bot
            return 0, 0.0
        pending = int(summary.get("pending", 0))
        oldest = summary.get("min")
        age = time.time() - int(str(oldest).split("-")[0]) / 1000 if pending and oldest else 0.0
        return pending, age

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, report = await self.check()
        return web.json_response(report, status=200 if healthy else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        await self.check()  # refreshes the outbox gauge
        body = generate_latest(metrics.REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("health and metrics on http://%s:%d/healthz and /metrics", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
