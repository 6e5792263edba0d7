"""The bot's own words in the chat's language: gettext catalogs (.po) read once at start with Babel.

The catalogs live in `bot/telegram/locale/<lang>/LC_MESSAGES/frontwatch.po`; English is the msgid
itself. They are parsed at start, so no compiled .mo files are needed; a missing or empty entry
falls back to English. A chat's language is the one chosen with /language, else the user's Telegram
`language_code` when the bot speaks it, else English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

LANGUAGES = ("en", "fa", "ps", "ar", "ru", "uk", "fr")
RIGHT_TO_LEFT = frozenset({"fa", "ps", "ar"})
DOMAIN = "frontwatch"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Unicode's first-strong isolate: a Latin name or a number inside a right-to-left sentence keeps its
# own direction and does not drag the punctuation around it to the wrong side.
_ISOLATE, _POP_ISOLATE = "\u2068", "\u2069"


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for one language; empty for English or a language without a catalog."""
    path = catalog_path(lang)
    if lang == "en" or not path.exists():
        return {}
    with path.open("rb") as fh:
        parsed = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in parsed if m.id and isinstance(m.string, str) and m.string}


def pick_language(chosen: str = "", telegram_code: str | None = None) -> str:
    """The chat's chosen language, else the user's Telegram language when we speak it, else English."""
    if chosen in LANGUAGES:
        return chosen
    base = (telegram_code or "").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


def language_name(lang: str) -> str:
    """A language's own name for itself: 'فارسی', 'Українська'."""
    name = Locale.parse(lang).get_display_name(lang) or lang
    return name[:1].upper() + name[1:]


class Speaker:
    """Says a message in one language: `say("Following {what}.", what=label)`.

    The msgid is English and doubles as the fallback; values are put in after translation, each
    isolated in right-to-left languages so names in another script read in the right order.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self.rtl = self.lang in RIGHT_TO_LEFT

    def __call__(self, msgid: str, **values: object) -> str:
        text = catalog(self.lang).get(msgid, msgid)
        if not values:
            return text
        if self.rtl:
            values = {k: f"{_ISOLATE}{v}{_POP_ISOLATE}" for k, v in values.items()}
        return text.format(**values)


def N_(msgid: str) -> str:
    """gettext's name for "mark for translation here, translate when said"."""
    return msgid
