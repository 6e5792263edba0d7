"""What the handlers need from the running bot, kept in `application.bot_data` under one key."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from bot.telegram.subscriptions import SubscriptionStore

SERVICES_KEY = "frontwatch"


@dataclass
class Services:
    store: SubscriptionStore
    admin_ids: frozenset[int]
    rule_ids: Callable[[], list[str]]
    countries: dict[str, str]  # ISO code -> English name
    focus_countries: Callable[[], list[str]]  # codes offered as buttons
    find_place: Callable[[str], tuple[int | None, str, str] | None]  # name -> (geonameid, name, country)
    reload_rules: Callable[[], Awaitable[str]]  # returns a report; raises RulesError
    health: Callable[[], Awaitable[dict[str, str]]]  # for admins' /status and /stats
    started_at: float = field(default_factory=time.time)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
