"""Turning what people type or tap into subscriptions and settings; every refusal says why. Pure.

A refusal is a `Refused` carrying an English message id and its values, so the handler says it in
the chat's language (bot/telegram/i18n.py); `str()` of it is the English sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.telegram.i18n import N_
from bot.telegram.places_lookup import Found, PlaceChoice
from bot.telegram.subscriptions import Subscription, quiet_span
from handlers.services import Services

MAX_ARGUMENT_CHARS = 120
MAX_MUTE_SECONDS = 30 * 24 * 3600
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d|w)$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LANG = re.compile(r"^[a-z]{2,3}$")
_QUIET = re.compile(r"^\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}$")


class Refused(ValueError):
    """The input cannot be used; the message (an English msgid and its values) is the polite reply."""

    def __init__(self, msgid: str, **values: object) -> None:
        super().__init__(msgid.format(**values) if values else msgid)
        self.msgid = msgid
        self.values = values


@dataclass(frozen=True)
class SettingChange:
    field: str
    value: str | int
    description: str


@dataclass
class Ask:
    """More than one thing fits what was typed (or nothing, but something close does): ask which."""

    typed: str
    found: Found = field(default_factory=Found)
    languages: bool = False  # `/subscribe lang` alone: offer the languages as buttons


def clean(text: str) -> str:
    """Printable text only, trimmed: control and format characters (RTL marks, zero-widths) dropped."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] not in ("C",) or ch == " ")
    return " ".join(kept.split())[:MAX_ARGUMENT_CHARS]


def place_subscription(place: PlaceChoice) -> Subscription:
    return Subscription("place", place.key, f"{place.name} ({place.country})")


def country_subscription(code: str, svc: Services) -> Subscription:
    return Subscription("country", code, svc.countries.get(code, code))


def parse_subscribe(args: list[str], svc: Services) -> Subscription | SettingChange | Ask:
    """`/subscribe` arguments: all | rule ID | country NAME | city NAME | lang xx,yy | min_sources N"""
    words = clean(" ".join(args)).split(" ") if args else []
    if not words or not words[0]:
        raise Refused(
            N_("Tell me what to follow, or tap a button: /subscribe Afghanistan, /subscribe Kunduz.")
        )
    head, rest = words[0].lower(), " ".join(words[1:])
    if head in ("all", "everything"):
        return Subscription("all", "*", "everything")
    if head == "rule":
        return _rule(rest, svc)
    if head == "country":
        return _country(rest, svc)
    if head in ("city", "town", "place"):
        return _place(rest, svc)
    if head in ("lang", "language", "languages"):
        return _languages(rest, svc)
    if head in ("min_sources", "sources"):
        return _min_sources(rest)
    whole = " ".join(words)
    named = _named(whole, resolve(whole, svc), svc)
    if named is None:
        raise Refused(
            N_(
                "I don't know “{typed}” as a country or a city. Check the spelling, or try /subscribe Kunduz."
            ),
            typed=whole,
        )
    return named


def resolve(text: str, svc: Services) -> Found:
    """What a typed name may mean, from the rules' place index; without one (unit tests), exact names."""
    if svc.places is not None:
        return svc.places().find(text)
    code = text.strip().upper()
    by_name = {name.lower(): c for c, name in svc.countries.items()}
    if code in svc.countries or text.strip().lower() in by_name:
        return Found(countries=[code if code in svc.countries else by_name[text.strip().lower()]])
    hit = svc.find_place(text)
    return Found(places=[PlaceChoice(hit[0], hit[1], hit[2])] if hit else [])


def _named(typed: str, found: Found, svc: Services) -> Subscription | Ask | None:
    """The one thing a name means; an Ask when it may mean several; None when nothing."""
    if found.count == 1:
        if found.countries:
            return country_subscription(found.countries[0], svc)
        return place_subscription(found.places[0])
    if found.count > 1 or found.suggestions:
        return Ask(typed, found)
    return None


def _rule(value: str, svc: Services) -> Subscription:
    if value not in svc.rule_ids():
        raise Refused(
            N_("There is no rule “{value}”. Rules: {known}."), value=value, known=", ".join(svc.rule_ids())
        )
    return Subscription("rule", value, f"rule {value}")


def _country(value: str, svc: Services) -> Subscription | Ask:
    if not value.strip():
        raise Refused(
            N_("Which country? For example /subscribe country Afghanistan, or /subscribe country AF.")
        )
    found = resolve(value, svc)
    found.places = []
    named = _named(value, found, svc)
    if named is None:
        raise Refused(
            N_("I don't know the country “{value}”. Use its name or its two-letter code (AF, SY, UA)."),
            value=value,
        )
    return named


def _place(value: str, svc: Services) -> Subscription | Ask:
    if not value.strip():
        raise Refused(N_("Which city? For example /subscribe city Kunduz."))
    found = resolve(value, svc)
    if svc.places is not None:
        found.countries, found.places = [], found.places or svc.places().places(value)
    named = _named(value, found, svc)
    if named is None:
        raise Refused(
            N_("I don't know the city “{value}”. Try another spelling, or follow its country."), value=value
        )
    return named


def known_languages(svc: Services) -> list[str]:
    return svc.rule_languages() if svc.rule_languages is not None else []


def _languages(value: str, svc: Services) -> SettingChange | Ask:
    codes = sorted({c.strip().lower() for c in value.replace(",", " ").split() if c.strip()})
    if not codes:
        return Ask("", languages=True)
    if codes == ["all"]:
        return SettingChange("languages", "", "alerts in every language")
    bad = [c for c in codes if not _LANG.match(c)]
    if bad:
        raise Refused(
            N_("“{code}” is not a language code; use codes like en, fa, ps, ar, ru, uk, fr."), code=bad[0]
        )
    known = known_languages(svc)
    unknown = [c for c in codes if known and c not in known]
    if unknown:
        raise Refused(
            N_("The rules do not read “{code}”. Languages they read: {known}."),
            code=unknown[0],
            known=", ".join(known),
        )
    return SettingChange(
        "languages", ",".join(codes), "alerts reported in " + ", ".join(codes) + " by any source"
    )


def _min_sources(value: str) -> SettingChange:
    if not value.isdigit() or not 1 <= int(value) <= 20:
        raise Refused(
            N_("The minimum number of sources is a number from 1 to 20, e.g. /subscribe min_sources 2.")
        )
    n = int(value)
    return SettingChange("min_sources", n, f"alerts once {n} independent sources report the event")


def parse_duration(text: str) -> int:
    """'30m', '6h', '2d' or '1w', in seconds; a bare number is refused (minutes? hours?)."""
    typed = clean(text).lower()
    if typed.isdigit():
        raise Refused(
            N_("Add a unit to {typed}: /mute 30m (minutes), /mute 6h (hours) or /mute 2d (days)."),
            typed=typed,
        )
    match = _DURATION.match(typed)
    if not match:
        raise Refused(N_("Mute for how long? For example /mute 30m, /mute 6h or /mute 2d."))
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if not 0 < seconds <= MAX_MUTE_SECONDS:
        raise Refused(N_("A mute lasts from one minute to 30 days."))
    return seconds


def parse_quiet(text: str) -> str:
    """'22:00-07:00' as it is stored; 'off' clears it."""
    typed = clean(text).replace(" ", "")
    if typed.lower() in ("off", "none", "0"):
        return ""
    if not _QUIET.match(typed) or quiet_span(typed) is None:
        raise Refused(N_("Quiet hours are a span of the day, e.g. /quiet 22:00-07:00 (or /quiet off)."))
    start, end = typed.split("-")
    return f"{int(start[:-3]):02d}:{start[-2:]}-{int(end[:-3]):02d}:{end[-2:]}"


def parse_button(data: str, svc: Services) -> Subscription:
    """Callback data 'sub:KIND:VALUE' / 'unsub:KIND:VALUE' from our own keyboards; else stale or forged."""
    parts = data.split(":", 2)
    if len(parts) != 3 or parts[0] not in ("sub", "unsub"):
        raise Refused(N_("That button is no longer valid."))
    kind, value = parts[1], parts[2]
    if kind == "all" and value == "*":
        return Subscription("all", "*", "everything")
    if kind == "country" and value in svc.countries:
        return country_subscription(value, svc)
    if kind == "rule" and value in svc.rule_ids():
        return Subscription("rule", value, f"rule {value}")
    if kind == "place" and svc.places is not None:
        place = svc.places().place(value)
        if place is not None:
            return place_subscription(place)
    raise Refused(N_("That button is no longer valid."))
