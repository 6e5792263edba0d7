"""The language a post is written in, for reporting and subscriptions (never to gate triggers).

The post's own label wins (X sets one). Otherwise letters that only one language of a script uses
decide, because langdetect has no Pashto model and is unsure on short text; langdetect, seeded so the
same text always gets the same answer, settles the rest.
"""

from __future__ import annotations

import re
import threading

from bot.rules.text import (
    PASHTO_LETTERS,
    PERSIAN_LETTERS,
    RUSSIAN_LETTERS,
    UKRAINIAN_LETTERS,
    URDU_LETTERS,
    script_of,
)

# Latin-script posts are mostly English or French here: their commonest short words settle it
# at once; langdetect (about 15 ms a post) is asked only when they do not.
_ENGLISH_WORDS = frozenset("the of and has have had to in is was are after by from with its that".split())
_FRENCH_WORDS = frozenset("le la les des du est et été une un au aux dans par sur après que qui avec".split())
_WORD = re.compile(r"[^\W\d_]+")
# langdetect reads this much of a post: enough to tell a language, and its cost grows with length.
LANGDETECT_CHARS = 300
_ARABIC_ONLY = frozenset("يكة")  # Arabic yeh, kaf and teh marbuta; Persian and Pashto write ی ک ه
_PERSIAN_FORMS = frozenset("یک")
_detector_lock = threading.Lock()
_seeded = False


def _langdetect(text: str) -> str | None:
    global _seeded
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    with _detector_lock:
        if not _seeded:
            DetectorFactory.seed = 0
            _seeded = True
        try:
            return str(detect(text)).split("-")[0]
        except LangDetectException:
            return None


def _arabic_script_language(letters: set[str]) -> str:
    if letters & PASHTO_LETTERS:
        return "ps"
    if letters & URDU_LETTERS:
        return "ur"
    if letters & PERSIAN_LETTERS:
        return "fa"
    persian, arabic = len(letters & _PERSIAN_FORMS), len(letters & _ARABIC_ONLY)
    return "fa" if persian > arabic else "ar"


def detect_language(text: str, own_label: str | None = None) -> str | None:
    if own_label:
        return own_label
    script = script_of(text)
    letters = set(text.lower())
    if script == "arabic":
        return _arabic_script_language(letters)
    if script == "cyrillic":
        if letters & UKRAINIAN_LETTERS:
            return "uk"
        if letters & RUSSIAN_LETTERS:
            return "ru"
    return _by_function_words(text) or _langdetect(text[:LANGDETECT_CHARS])


def _by_function_words(text: str) -> str | None:
    words = _WORD.findall(text.lower())
    english = sum(w in _ENGLISH_WORDS for w in words)
    french = sum(w in _FRENCH_WORDS for w in words)
    if english >= 2 and english >= 3 * french:
        return "en"
    if french >= 2 and french >= 3 * english:
        return "fr"
    return None
