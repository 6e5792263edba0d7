"""What the handlers need from the running bot: `context.bot_data`, typed through PTB's ContextTypes.

python-telegram-bot creates `bot_data` itself, empty (`ContextTypes(bot_data=Services)`); the
runtime fills it once with `wire`, before polling starts, so every handler finds it ready.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.store.feedback import FeedbackStore
from bot.telegram.places_lookup import PlaceLookup
from bot.telegram.subscriptions import SubscriptionStore

PlaceFound = tuple[int | None, str, str]  # (geonameid, name, country code)


class Services:
    store: SubscriptionStore
    feedback: FeedbackStore
    admin_ids: frozenset[int]
    rule_ids: Callable[[], list[str]]
    countries: dict[str, str]  # ISO code -> English name
    focus_countries: Callable[[], list[str]]  # codes offered as buttons
    find_place: Callable[[str], PlaceFound | None]
    reload_rules: Callable[[], Awaitable[str]]  # returns a report; raises RulesError
    health: Callable[[], Awaitable[dict[str, str]]]  # for admins' /status and /stats
    # Every candidate for a typed name, and suggestions (None: only find_place's single answer).
    places: Callable[[], PlaceLookup] | None
    rule_languages: Callable[[], list[str]] | None  # the languages the rules read (None: any code)
    started_at: float

    def wire(
        self,
        *,
        store: SubscriptionStore,
        feedback: FeedbackStore,
        admin_ids: frozenset[int],
        rule_ids: Callable[[], list[str]],
        countries: dict[str, str],
        focus_countries: Callable[[], list[str]],
        find_place: Callable[[str], PlaceFound | None],
        reload_rules: Callable[[], Awaitable[str]],
        health: Callable[[], Awaitable[dict[str, str]]],
        places: Callable[[], PlaceLookup] | None = None,
        rule_languages: Callable[[], list[str]] | None = None,
    ) -> None:
        self.store = store
        self.feedback = feedback
        self.admin_ids = admin_ids
        self.rule_ids = rule_ids
        self.countries = countries
        self.focus_countries = focus_countries
        self.find_place = find_place
        self.reload_rules = reload_rules
        self.health = health
        self.places = places
        self.rule_languages = rule_languages
        self.started_at = time.time()


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], Services]
CONTEXT_TYPES = ContextTypes(bot_data=Services)
