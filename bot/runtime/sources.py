"""Which sources `frontwatch run` starts, from the settings, and the accounts they watch.

The runtime reads the rules file and hands each source only its list of accounts: sources never
see rules.yaml.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from bot.config import Settings
from bot.rules.schema import RulesFile
from bot.sources import Emit, Source, SourceState
from bot.sources.x_stream import XStreamSource
from bot.sources.x_timeline import XTimelinePoller
from bot.store.keys import Keys

log = logging.getLogger(__name__)


def watched_accounts(rules: RulesFile) -> list[str]:
    """Every handle in every account group, without '@', de-duplicated case-insensitively, sorted."""
    seen: dict[str, str] = {}
    for group in rules.account_groups.values():
        for handle in group.accounts:
            seen.setdefault(handle.lstrip("@").lower(), handle.lstrip("@"))
    return [seen[k] for k in sorted(seen)]


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
