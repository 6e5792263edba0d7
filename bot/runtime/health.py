"""The operator's window: GET /healthz (is the bot working?) and GET /metrics (Prometheus).

/healthz answers one of three, with every reason in "problems":

- "ok" (200): Redis answers, Telegram polling works, the outbox holds no alert waiting longer than
  OUTBOX_LAG_LIMIT_SECONDS for this bot's deliveries, and every configured post source is running;
- "degraded" (200): the bot works, but a post source is not running (no token, a refused token, a
  stream without a connection for minutes, a spent read budget). Still 200, because a load balancer
  or docker's healthcheck reads the code, and restarting the bot mends none of these;
- "unhealthy" (503): Redis is unreachable, Telegram polling is failing, or alerts are not leaving
  the outbox: the bot cannot do its work, and a restart may help.

Bound to 127.0.0.1 by default (HEALTH_HOST, HEALTH_PORT; port 0 turns it off).
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
from bot.telegram.polling import TelegramPolling

log = logging.getLogger(__name__)

OUTBOX_LAG_LIMIT_SECONDS = 300
REDIS_PING_TIMEOUT_SECONDS = 1.0
# States without which the bot cannot work (503); any other source down only degrades it (200).
ESSENTIAL_STATES = frozenset({TelegramPolling.name})


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

    async def check(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status (200 or 503) and the report /healthz answers."""
        problems: list[str] = []  # the bot cannot work
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
        problems += [s.line() for s in states if not s.healthy and s.name in ESSENTIAL_STATES]
        degraded = [s.line() for s in states if not s.healthy and s.name not in ESSENTIAL_STATES]
        report["status"] = "unhealthy" if problems else "degraded" if degraded else "ok"
        if problems or degraded:
            report["problems"] = problems + degraded
        return 503 if problems else 200, report

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
        status, report = await self.check()
        return web.json_response(report, status=status)

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
