"""Which sources `frontwatch run` starts, from the settings, and the accounts they watch.

The runtime reads the rules file and hands each source only the accounts of its own network (X
handles to the X sources, feed URLs to the feed reader, …): sources never see rules.yaml. A network
runs when SOURCES names it, or, SOURCES unset, when rules.yaml lists accounts of it (X: per X_MODE).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis.asyncio as aioredis

from bot.config import Settings
from bot.rules.schema import RulesFile
from bot.runtime.leased import LEASE_SECONDS, LeasedSource, source_role
from bot.sources import Emit, Source, SourceState
from bot.sources.accounts import NETWORKS, Network, accounts_by_network
from bot.sources.bluesky import BlueskySource
from bot.sources.feeds import FeedSource
from bot.sources.mastodon import MastodonSource, tokens_by_server
from bot.sources.telegram_channels import ChannelPreviewSource
from bot.sources.x_stream import XStreamSource
from bot.sources.x_timeline import XTimelinePoller
from bot.store.keys import Keys
from bot.store.leases import Lease

log = logging.getLogger(__name__)


def watched_accounts(rules: RulesFile) -> list[str]:
    """Every account in every group once (case-insensitively), sorted by network: X handles without '@'
    (as the X sources take them), then the others as written canonically (`bsky:…`, `rss:https://…`)."""
    by_network = accounts_by_network([a for group in rules.account_groups.values() for a in group.accounts])
    return by_network["x"] + [f"{n}:{key}" for n in NETWORKS if n != "x" for key in by_network[n]]


class OneNetwork:
    """A source given only its own network's accounts, at start and on every rules reload."""

    def __init__(self, network: Network, source: Source) -> None:
        self.network = network
        self.source = source
        self.name = source.name

    async def start(self, emit: Emit) -> None:
        await self.source.start(emit)

    async def watch(self, accounts: list[str]) -> None:
        await self.source.watch(accounts_by_network(accounts)[self.network])

    async def stop(self) -> None:
        await self.source.stop()

    def state(self) -> SourceState:
        return self.source.state()


class MisconfiguredSource:
    """A source the settings ask for but cannot run: shown as down (with what to set), never silent."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    async def start(self, emit: Emit) -> None:
        log.error("%s not started: %s. Telegram keeps working.", self.name, self.reason)

    async def watch(self, accounts: list[str]) -> None:
        return None

    async def stop(self) -> None:
        return None

    def state(self) -> SourceState:
        return SourceState(self.name, False, f"not started: {self.reason}")


Build = Callable[[list[str]], Source]


def sources_from_settings(
    settings: Settings,
    client: aioredis.Redis,
    keys: Keys,
    accounts: list[str],
    holder: str | None = None,
) -> list[Source]:
    """The sources to run: each network SOURCES turns on (unset: each with accounts), X per X_MODE.

    With `holder` (this process's name), each source runs only while this process holds its lease
    (bot/runtime/leased.py); a fresh source is built from the accounts of the moment at each taking.
    A source that cannot run (no token) is shown as down in every process, without a lease.
    """
    sources: list[Source] = []
    for name, build in _builders(settings, client, keys, accounts):
        if isinstance(build, MisconfiguredSource):
            sources.append(build)
        elif holder is None:
            sources.append(build(accounts))
        else:
            lease = Lease(client, keys, source_role(name), holder, int(LEASE_SECONDS * 1000))
            sources.append(LeasedSource(name, build, accounts, lease))
    return sources


def _builders(
    settings: Settings, client: aioredis.Redis, keys: Keys, accounts: list[str]
) -> list[tuple[str, Build | MisconfiguredSource]]:
    by_network = accounts_by_network(accounts)
    wanted = set(settings.sources) or {n for n in NETWORKS if by_network[n]} | {"x"}
    builders: list[tuple[str, Build | MisconfiguredSource]] = []
    if "x" in wanted and settings.x_mode != "off":
        builders.append(_x_builder(settings, client, keys))
    if "bsky" in wanted:

        def bluesky(accounts: list[str]) -> Source:
            mine = accounts_by_network(accounts)["bsky"]
            return OneNetwork(
                "bsky", BlueskySource(settings.bsky_jetstream_url, settings.bsky_api_base, client, keys, mine)
            )

        builders.append((BlueskySource.name, bluesky))
    if "mastodon" in wanted:
        tokens = tokens_by_server(settings.mastodon_access_tokens)

        def fediverse(accounts: list[str]) -> Source:
            mine = accounts_by_network(accounts)["mastodon"]
            return OneNetwork(
                "mastodon", MastodonSource(client, keys, mine, settings.mastodon_poll_seconds, tokens)
            )

        builders.append((MastodonSource.name, fediverse))
    if "tg" in wanted:

        def channels(accounts: list[str]) -> Source:
            mine = accounts_by_network(accounts)["tg"]
            source = ChannelPreviewSource(
                settings.tg_preview_base, client, keys, mine, settings.tg_poll_seconds
            )
            return OneNetwork("tg", source)

        builders.append((ChannelPreviewSource.name, channels))
    if "rss" in wanted:

        def feeds(accounts: list[str]) -> Source:
            mine = accounts_by_network(accounts)["rss"]
            return OneNetwork("rss", FeedSource(client, keys, mine, settings.rss_poll_seconds))

        builders.append((FeedSource.name, feeds))
    return builders


def _x_builder(
    settings: Settings, client: aioredis.Redis, keys: Keys
) -> tuple[str, Build | MisconfiguredSource]:
    name = "X stream" if settings.x_mode == "stream" else "X timelines"
    if settings.x_bearer_token is None:
        return name, MisconfiguredSource(name, f"X_MODE={settings.x_mode} but X_BEARER_TOKEN is not set")
    token = settings.x_bearer_token.get_secret_value()

    def x_source(accounts: list[str]) -> Source:
        mine = accounts_by_network(accounts)["x"]
        if settings.x_mode == "stream":
            source: Source = XStreamSource(
                token, settings.x_api_base, mine, settings.x_max_rules, settings.x_max_rule_chars
            )
        else:
            source = XTimelinePoller(
                token,
                settings.x_api_base,
                client,
                keys,
                mine,
                settings.x_monthly_read_budget,
                settings.x_poll_seconds,
            )
        return OneNetwork("x", source)

    return name, x_source
