"""Which sources `frontwatch run` starts, from the settings, and the accounts they watch.

The runtime reads the rules file and hands each source only the accounts of its own network (X
handles to the X sources, feed URLs to the feed reader, …): sources never see rules.yaml. A network
runs when SOURCES names it, or, SOURCES unset, when rules.yaml lists accounts of it (X: per X_MODE).
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from bot.config import Settings
from bot.rules.schema import RulesFile
from bot.sources import Emit, Source, SourceState
from bot.sources.accounts import NETWORKS, Network, accounts_by_network
from bot.sources.bluesky import BlueskySource
from bot.sources.feeds import FeedSource
from bot.sources.mastodon import MastodonSource, tokens_by_server
from bot.sources.telegram_channels import ChannelPreviewSource
from bot.sources.x_stream import XStreamSource
from bot.sources.x_timeline import XTimelinePoller
from bot.store.keys import Keys

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


def sources_from_settings(
    settings: Settings, client: aioredis.Redis, keys: Keys, accounts: list[str]
) -> list[Source]:
    """The sources to run: each network SOURCES turns on (unset: each with accounts), X per X_MODE."""
    by_network = accounts_by_network(accounts)
    wanted = set(settings.sources) or {n for n in NETWORKS if by_network[n]} | {"x"}
    sources: list[Source] = []
    if "x" in wanted:
        sources += [OneNetwork("x", s) for s in _x_sources(settings, client, keys, by_network["x"])]
    if "bsky" in wanted:
        bluesky = BlueskySource(
            settings.bsky_jetstream_url, settings.bsky_api_base, client, keys, by_network["bsky"]
        )
        sources.append(OneNetwork("bsky", bluesky))
    if "mastodon" in wanted:
        tokens = tokens_by_server(settings.mastodon_access_tokens)
        poll = settings.mastodon_poll_seconds
        fediverse = MastodonSource(client, keys, by_network["mastodon"], poll, tokens)
        sources.append(OneNetwork("mastodon", fediverse))
    if "tg" in wanted:
        channels = ChannelPreviewSource(
            settings.tg_preview_base, client, keys, by_network["tg"], settings.tg_poll_seconds
        )
        sources.append(OneNetwork("tg", channels))
    if "rss" in wanted:
        feeds = FeedSource(client, keys, by_network["rss"], settings.rss_poll_seconds)
        sources.append(OneNetwork("rss", feeds))
    return sources


def _x_sources(settings: Settings, client: aioredis.Redis, keys: Keys, accounts: list[str]) -> list[Source]:
    if settings.x_mode == "off":
        return []
    name = "X stream" if settings.x_mode == "stream" else "X timelines"
    if settings.x_bearer_token is None:
        return [MisconfiguredSource(name, f"X_MODE={settings.x_mode} but X_BEARER_TOKEN is not set")]
    token = settings.x_bearer_token.get_secret_value()
    if settings.x_mode == "stream":
        return [
            XStreamSource(
                token, settings.x_api_base, accounts, settings.x_max_rules, settings.x_max_rule_chars
            )
        ]
    return [
        XTimelinePoller(
            token,
            settings.x_api_base,
            client,
            keys,
            accounts,
            settings.x_monthly_read_budget,
            settings.x_poll_seconds,
        )
    ]
