"""Turning what people type or tap into subscriptions and settings; every refusal says why. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.telegram.subscriptions import Subscription
from handlers.services import Services

MAX_ARGUMENT_CHARS = 120
MAX_MUTE_SECONDS = 30 * 24 * 3600
_DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d|w)?$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LANG = re.compile(r"^[a-z]{2,3}$")


class Refused(ValueError):
    """The input cannot be used; the message is the polite reply."""


@dataclass(frozen=True)
class SettingChange:
    field: str
    value: str | int
    description: str


def clean(text: str) -> str:
    """Printable text only, trimmed: control and format characters (RTL marks, zero-widths) dropped."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] not in ("C",) or ch == " ")
    return " ".join(kept.split())[:MAX_ARGUMENT_CHARS]


def parse_subscribe(args: list[str], svc: Services) -> Subscription | SettingChange:
    """`/subscribe` arguments: all | rule ID | country CODE/name | city NAME | lang xx,yy | min_sources N"""
    words = clean(" ".join(args)).split(" ") if args else []
    if not words or not words[0]:
        raise Refused(
            "Tell me what to follow, or tap a button: /subscribe Afghanistan, /subscribe city Kunduz."
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
        return _languages(rest)
    if head in ("min_sources", "sources"):
        return _min_sources(rest)
    whole = " ".join(words)
    for attempt in (_country, _place):
        try:
            return attempt(whole, svc)
        except Refused:
            continue
    raise Refused(
        f"I don't know “{whole}” as a country or a city. Try /subscribe country AF or /subscribe city Kunduz."
    )


def _rule(value: str, svc: Services) -> Subscription:
    if value not in svc.rule_ids():
        known = ", ".join(svc.rule_ids())
        raise Refused(f"There is no rule “{value}”. Rules: {known}.")
    return Subscription("rule", value, f"rule {value}")


def _country(value: str, svc: Services) -> Subscription:
    code = value.strip().upper()
    if code in svc.countries:
        return Subscription("country", code, svc.countries[code])
    by_name = {name.lower(): c for c, name in svc.countries.items()}
    if value.strip().lower() in by_name:
        code = by_name[value.strip().lower()]
        return Subscription("country", code, svc.countries[code])
    raise Refused(f"I don't know the country “{value}”. Use its name or its two-letter code (AF, SY, UA).")


def _place(value: str, svc: Services) -> Subscription:
    if not value.strip():
        raise Refused("Which city? For example /subscribe city Kunduz.")
    found = svc.find_place(value)
    if found is None:
        raise Refused(f"I don't know the city “{value}”. Try another spelling, or follow its country.")
    geonameid, name, country = found
    key = str(geonameid) if geonameid is not None else name.lower()
    return Subscription("place", key, f"{name} ({country})")


def _languages(value: str) -> SettingChange:
    codes = sorted({c.strip().lower() for c in value.replace(",", " ").split() if c.strip()})
    if not codes or codes == ["all"]:
        return SettingChange("languages", "", "alerts in every language")
    bad = [c for c in codes if not _LANG.match(c)]
    if bad:
        raise Refused(f"“{bad[0]}” is not a language code; use codes like en, fa, ps, ar, ru, uk, fr.")
    return SettingChange("languages", ",".join(codes), "alerts first reported in " + ", ".join(codes))


def _min_sources(value: str) -> SettingChange:
    if not value.isdigit() or not 1 <= int(value) <= 20:
        raise Refused(
            "The minimum number of sources is a number from 1 to 20, e.g. /subscribe min_sources 2."
        )
    n = int(value)
    return SettingChange("min_sources", n, f"alerts once {n} source{'s' if n > 1 else ''} report the event")


def parse_duration(text: str) -> int:
    """'30m', '2h', '1d', '1w' or a bare number of hours, in seconds."""
    match = _DURATION.match(clean(text).lower())
    if not match:
        raise Refused("Mute for how long? For example /mute 30m, /mute 2h or /mute 1d.")
    amount, unit = int(match.group(1)), (match.group(2) or "h").lower()
    seconds = amount * _UNIT_SECONDS[unit]
    if not 0 < seconds <= MAX_MUTE_SECONDS:
        raise Refused("A mute lasts from one minute to 30 days.")
    return seconds


def parse_button(data: str, svc: Services) -> Subscription:
    """Callback data 'sub:KIND:VALUE' from our own keyboards; anything else is stale or forged."""
    parts = data.split(":", 2)
    if len(parts) != 3 or parts[0] not in ("sub", "unsub"):
        raise Refused("That button is no longer valid.")
    kind, value = parts[1], parts[2]
    if kind == "all" and value == "*":
        return Subscription("all", "*", "everything")
    try:
        if kind == "country":
            return _country(value, svc)
        if kind == "rule":
            return _rule(value, svc)
    except Refused:
        pass
    raise Refused("That button is no longer valid.")
