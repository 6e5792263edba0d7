"""Text normalisation shared by the rules, the gazetteer and the matcher.

`fold` maps a text to a comparable form of the same length (one character in, one out), so a span
found in the folded text is the same span in the original and evidence can quote the post as written.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache
from typing import NamedTuple

# Sentence ends: Latin, Arabic (؟ ۔ ؛), Devanagari danda, CJK full stop, line breaks, and emoji and
# pictographs, which posts use as full stops ("... in Kherson 🇺🇦 The city is ...").
# A full stop between two digits is a decimal point ("seized 1.2 tonnes"), not a sentence's end.
_SENTENCE_END = re.compile(r"(?:[!?;…\n\r؟۔؛।。！？\u2600-\u27bf\U0001f000-\U0001faff]|(?<!\d)\.|\.(?!\d))+")
TOKEN = re.compile(r"\w+")  # a word of a folded text
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
# Clause ends, for cues that only reach within a clause (a year): sentence ends plus , ، — – : ( )
# As _SENTENCE_END, a full stop or comma between two digits ("1.2 tonnes", "300,000") ends nothing.
_CLAUSE_END = re.compile(r"(?:[!?;…\n\r؟۔؛।。！？،—–:()]|(?<!\d)[.,]|[.,](?!\d))+")
CLAUSE_MARKS = frozenset(",،—–:(;")
# "After", folded, in the languages read (Pashto's وروسته too): what follows it happened earlier, or a
# place after it lies beyond another ("after Bakhmut, Soledar"); "پس از" and "بعد از" start with it.
AFTER_WORDS = frozenset({"after", "apres", "بعد", "после", "після", "پس", "وروسته"})

# Letters that appear in Pashto but not in Persian or Arabic; Persian letters absent from Arabic;
# Urdu letters absent from both. langdetect has no Pashto model, so script evidence decides first.
PASHTO_LETTERS = frozenset("ټډړښږځڅڼېۍګ")
PERSIAN_LETTERS = frozenset("پچژگ")
URDU_LETTERS = frozenset("ٹڈڑےں")
UKRAINIAN_LETTERS = frozenset("іїєґ")
RUSSIAN_LETTERS = frozenset("ыэъё")

# Pashto letters read as their Persian counterparts, so Pashto spellings of places (ګردېز, لښکرګاه)
# meet the Persian ones GeoNames holds (گردیز, لشکرگاه). Language detection reads the text unfolded.
_PASHTO_AS_PERSIAN = {
    "ګ": "گ",
    "ې": "ی",
    "ۍ": "ی",
    "ښ": "ش",
    "ږ": "ژ",
    "ټ": "ت",
    "ډ": "د",
    "ړ": "ر",
    "ڼ": "ن",
}
_ARABIC_VARIANTS = {
    "ي": "ی",  # Arabic yeh -> Farsi yeh (Persian and Pashto write the latter)
    "ى": "ی",  # alef maksura
    "ئ": "ی",
    "ك": "ک",  # Arabic kaf -> keheh
    "ة": "ه",  # teh marbuta, written either way in names (حماة / حماه)
    "ۀ": "ه",
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ؤ": "و",
}
# Arabic-Indic and Persian digits read as ASCII digits, so a year is a year in every script.
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
_DIGIT_TABLE = str.maketrans(_DIGITS)
# @handles and links are not text to match: "Captured by @nadim_lens" names no place.
_HANDLE_OR_LINK = re.compile(r"@\w+|https?://\S+|www\.\S+")
_SEPARATORS = "-‐‑‒–—―_/\u200c\u200d\u00a0'’‘ʼ`´\"«»“”„#@"

_FOLDED_RANGES = (
    (0x0000, 0x0250),  # Latin
    (0x0370, 0x0530),  # Greek, Cyrillic
    (0x0600, 0x0700),  # Arabic, Persian, Pashto
    (0x1E00, 0x1F00),  # Latin extended additional (Vietnamese and transliterations)
    (0x2000, 0x2070),  # general punctuation
)


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for lo, hi in _FOLDED_RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            low = ch.lower()
            if len(low) != 1:
                continue
            base = unicodedata.normalize("NFD", low)[0]
            out = base if unicodedata.category(base).startswith("L") else low
            if out != ch:
                table[cp] = out
    for src, dst in {**_ARABIC_VARIANTS, **_PASHTO_AS_PERSIAN, **_DIGITS, "ё": "е"}.items():
        table[ord(src)] = dst
    for ch in _SEPARATORS:
        table[ord(ch)] = " "
    return table


@lru_cache(maxsize=1)
def _ascii_fold_table() -> bytes:
    table = _fold_table()
    return bytes(ord(table.get(cp, chr(cp))) for cp in range(128)) + bytes(range(128, 256))


def nfc(text: str) -> str:
    """The canonical composed form, without Arabic short vowels, Quranic marks or tatweel ("طُرد" is
    "طرد": writers add them now and then, and a mark inside a word would split it in two); every offset
    the matcher reports refers to this string."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text).translate(_ARABIC_MARKS)


# short vowels, shadda, sukun, superscript alef, Quranic marks, tatweel
_ARABIC_MARKS = dict.fromkeys([*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640])


def fold(text: str) -> str:
    """Lower-case, strip diacritics, unify Arabic letter variants and turn separators into spaces.

    Same length as `text` (which must already be NFC), character for character.
    """
    if text.isascii():  # most posts: a byte table is several times faster than the dict
        return text.encode("ascii").translate(_ascii_fold_table()).decode("ascii")
    return text.translate(_fold_table())


def blank_handles_and_links(original: str, folded: str) -> str:
    """`folded` with the characters of every @handle and link in `original` turned into spaces."""
    if "@" not in original and "http" not in original and "www." not in original:
        return folded
    spans = [m.span() for m in _HANDLE_OR_LINK.finditer(original)]
    if not spans:
        return folded
    chars = list(folded)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def fold_phrase(text: str) -> str:
    """A phrase from rules.yaml or the gazetteer, folded and with its words joined by single spaces."""
    return " ".join(TOKEN.findall(fold(nfc(text))))


class Token(NamedTuple):  # a tuple: posts with a trigger make thousands of these
    start: int
    end: int
    text: str  # folded
    sentence: int


def sentence_ends(text: str) -> list[int]:
    """Offsets where sentences end; bisect_right(ends, offset) is the sentence of an offset."""
    return [m.end() for m in _SENTENCE_END.finditer(text)]


def tokenize(folded: str) -> list[Token]:
    """Words of a folded text, each with the index of the sentence it stands in."""
    ends = sentence_ends(folded)
    return [
        Token(m.start(), m.end(), m.group(), bisect_right(ends, m.start())) for m in TOKEN.finditer(folded)
    ]


def years_in(text: str) -> list[int]:
    """Four-digit years 1900-2099, in ASCII, Arabic-Indic or Persian digits."""
    return [int(y) for y in _YEAR.findall(text.translate(_DIGIT_TABLE))]


# "for the first time since 2011": the year a state of things lasted from, not when the event happened.
_FIRST_TIME_SINCE = re.compile(
    r"(?:first time since|premi[eè]re fois depuis|впервые (?:с|со)|вперше (?:з|із|від)|"
    r"ل[أا]ول مرة منذ|(?:نخستین|اولین) بار (?:از|پس از)|لومړی ځل)\s+\S+",
    re.IGNORECASE,
)
# A clause that is only a date ("15 août 2021, la prise de Kaboul"; "Два года назад, 20 мая 2023-го, …").
_DATE_ONLY_WORDS = 4


def dating_years(text: str, sentence_start: int, start: int, end: int) -> list[int]:
    """The years that date text[start:end]: those of its clause (not "for the first time since 2011"),
    and those of a clause before it in its sentence that holds nothing but a date."""
    lo, hi = clause_bounds(text, start, end)
    found = years_in(_FIRST_TIME_SINCE.sub(" ", text[lo:hi]))
    at = sentence_start
    while at < lo:
        mark = _CLAUSE_END.search(text, at, lo)
        stop = mark.start() if mark else lo
        piece = text[at:stop]
        if len(piece.split()) <= _DATE_ONLY_WORDS:
            found += years_in(piece)
        at = mark.end() if mark else lo
    return found


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the clause of `text` that holds text[start:end] begins and ends."""
    lo = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
    nxt = _CLAUSE_END.search(text, end)
    return lo, nxt.start() if nxt else len(text)


def has_clause_mark(text: str) -> bool:
    """Whether `text` holds a mark that ends a clause (a comma, a dash, a colon; not a decimal point)."""
    return _CLAUSE_END.search(text) is not None


def clause_around(text: str, start: int, end: int) -> str:
    """The clause of `text` that contains text[start:end]."""
    lo, hi = clause_bounds(text, start, end)
    return text[lo:hi]


def script_of(text: str) -> str:
    """The dominant script of the letters in `text`: latin, cyrillic, arabic or other (a tie goes to
    the first of that order)."""
    latin = cyrillic = arabic = other = 0
    for ch in text:
        if not ch.isalpha():
            continue
        cp = ord(ch)
        if cp < 0x0250 or 0x1E00 <= cp < 0x1F00:
            latin += 1
        elif 0x0400 <= cp < 0x0530:
            cyrillic += 1
        elif 0x0600 <= cp < 0x0700 or 0xFB50 <= cp < 0xFF00:
            arabic += 1
        else:
            other += 1
    best = max(latin, cyrillic, arabic, other)
    if best == 0:
        return "other"
    for name, count in (("latin", latin), ("cyrillic", cyrillic), ("arabic", arabic)):
        if count == best:
            return name
    return "other"


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"
