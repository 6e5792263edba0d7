"""Sound keys: one spelling-free key for the ways Latin, Cyrillic and Arabic script write a foreign name.

A town in Syria reaches a Ukrainian post as "Телль-Ріфаат", an English one as "Tell Rifaat" and
GeoNames as "Tall Rif‘at"; an Arabic post writes "عمران" for GeoNames' "‘Amrān". Each spelling keeps
the name's consonants and moves its vowels, so the key is the consonant skeleton in one shared
alphabet: vowels (and y, which every script uses for a vowel as often as not) dropped, letters that
transliterate one sound merged (kh/х/خ -> h, sh/ch/ш/ч/ش -> S, j/zh/dzh/ж/ج -> J, q/c/k/ق/ک -> k;
p/п/پ -> b and v/w/в/و -> f, as Arabic has no p or v),
doubled letters made one, and the Arabic article (al-, el-, ed-, аль-, ель-, ال) written as "l", so
"Ed Daein", "El Daein" and "Ед-Даїн" all read "ldn".

A key is a last resort (the index looks it up only when no written name matched) and counts only
with at least `MIN_CONSONANTS` letters for the script of the post that spells it (the article counts
as one): shorter skeletons are shared by too many places. The index keeps keys apart by that script
and drops those of everyday words (bot/rules/gazetteer.py). Input is text already folded
(bot/rules/text.py): lower case, no diacritics, Arabic letter variants unified, Pashto letters read as
Persian ones.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

# Arabic script writes no short vowels, so its names are shorter skeletons than Latin or Cyrillic ones.
MIN_CONSONANTS = {"latin": 4, "cyrillic": 4, "arabic": 3}
# An Arabic-script spelling of a town where that script is not written (سیورسک for Siversk) is a
# transliteration, found only by a longer key.
MIN_CONSONANTS_ABROAD = 5

# The Arabic article as the Latin and Cyrillic alphabets write it before a name (Al Bab, Ed Dain,
# Аль-Баб, Эр-Ракка). English and French words that look like one (as, at, an, en, es, et) are left
# out: "at Kabul" must not read as an article.
_LATIN_ARTICLES = frozenset("al el ad ed ar er ash esh az ez ath adh ag as-".split())
_CYRILLIC_ARTICLES = frozenset(
    "аль эль ель ал эл ел ад эд ед ар эр ер аш эш еш ас эс ес ат эт ет аз эз ез ан эн ен".split()
)

_CYRILLIC_TO_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "f", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "e",
        "ж": "J", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "", "к": "k", "л": "l", "м": "m",
        "н": "n", "о": "o", "п": "b", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h",
        "ц": "ts", "ч": "S", "ш": "S", "щ": "S", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "u",
        "я": "a",
    }
)  # fmt: skip

# Folded Arabic script (Persian and Pashto letters already read as Persian ones). Alef, yeh, hamza
# and ain are vowels or nothing in a transliteration; waw is a vowel or a "w" (see `_arabic_keys`).
_ARABIC_TO_LATIN = str.maketrans(
    {
        "ب": "b", "پ": "b", "ت": "t", "ط": "t", "ث": "t", "ج": "J", "چ": "S", "ح": "h", "خ": "h",
        "د": "d", "ذ": "d", "ض": "d", "ر": "r", "ز": "z", "ظ": "z", "ژ": "J", "س": "s", "ص": "s",
        "ش": "S", "غ": "g", "ف": "f", "ق": "k", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
        "ه": "h", "ا": "", "ی": "", "ع": "", "ء": "",
    }
)  # fmt: skip

# Latin digraphs first (longest first), then single letters.
_LATIN_DIGRAPHS = (
    ("dzh", "J"), ("tch", "S"), ("sch", "S"), ("dj", "J"), ("zh", "J"), ("sh", "S"), ("ch", "S"),
    ("kh", "h"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("ph", "f"), ("ck", "k"), ("qu", "k"),
)  # fmt: skip
_LATIN_DIGRAPH = re.compile("|".join(d for d, _ in _LATIN_DIGRAPHS))
_LATIN_DIGRAPH_MAP = dict(_LATIN_DIGRAPHS)
_SOFT_C = re.compile(r"c(?=[eiy])")
# Arabic script has no p and writes v as و or ف: p reads as b, v and w as f, in every script.
_LATIN_LETTERS = str.maketrans({"j": "J", "q": "k", "c": "k", "w": "f", "x": "ks", "p": "b", "v": "f"})
_VOWELS = re.compile(r"[aeiouy]+")
_FINAL_H = re.compile(r"(?<=[aeiouy])h\b")  # Raqqah, Qal'ah-ye: the ending Arabic writes as ة
_DOUBLED = re.compile(r"(.)\1+")
_FINAL_TEH = re.compile(r"(?<=.)ه$")  # ة is folded to ه: Raqqah's ending, which the Latin key drops too


def _skeleton(latin: str) -> str:
    """The consonants of a word already in the shared alphabet (lower case plus J, S), doubled ones as one."""
    return _DOUBLED.sub(r"\1", _VOWELS.sub("", _FINAL_H.sub("", latin)))


def _latin_word(word: str) -> str:
    word = _SOFT_C.sub("s", word)
    word = _LATIN_DIGRAPH.sub(lambda m: _LATIN_DIGRAPH_MAP[m.group()], word)
    return _skeleton(word.translate(_LATIN_LETTERS))


def _cyrillic_word(word: str) -> str:
    return _skeleton(word.replace("дж", "J").translate(_CYRILLIC_TO_LATIN))


def _arabic_keys(word: str) -> list[str]:
    """Waw is a vowel in some names (موصل, Mosul) and a consonant in others (طويلة, Tawila): both."""
    base = _FINAL_TEH.sub("", word)
    return sorted({_skeleton(base.replace("و", "f").translate(_ARABIC_TO_LATIN)),
                   _skeleton(base.replace("و", "").translate(_ARABIC_TO_LATIN))})  # fmt: skip


def _script(word: str) -> str:
    first = word[:1]
    if "a" <= first <= "z":
        return "latin"
    if "\u0400" <= first <= "\u04ff":
        return "cyrillic"
    if "\u0600" <= first <= "\u06ff":
        return "arabic"
    return ""


def sound_keys(words: list[str], reader: str | None = None) -> list[str]:
    """The sound keys of a folded name (one or more words), long enough to tell places apart when a
    post in the `reader` script spells it (by default the name's own script).

    Several keys when the spelling leaves a choice (waw in Arabic script); none when the script is not
    one of the three or the skeleton is too short.
    """
    if not words:
        return []
    script = _script(words[0])
    if not script or any(_script(w) != script for w in words):
        return []
    article = ""
    rest = words
    if script == "arabic" and words[0].startswith("ال") and len(words[0]) > 4:
        article, rest = "l", [words[0][2:], *words[1:]]
    elif len(words) > 1 and words[0] in (_LATIN_ARTICLES if script == "latin" else _CYRILLIC_ARTICLES):
        article, rest = "l", words[1:]
    joined = "".join(rest)
    if script == "latin":
        keys = [_latin_word(_FINAL_H.sub("", " ".join(rest)).replace(" ", ""))]
    elif script == "cyrillic":
        keys = [_cyrillic_word(joined)]
    else:
        keys = _arabic_keys(joined)
    least = MIN_CONSONANTS[reader or script]
    return [article + k for k in keys if len(k) >= 2 and len(article + k) >= least]


def _letters(words: list[str]) -> str:
    """The words in Latin letters with their vowels, for telling apart names one key shares."""
    joined = "".join(words)
    if _script(joined) == "cyrillic":
        return joined.replace("дж", "dzh").translate(_CYRILLIC_TO_LATIN).lower()
    return joined


def closest(words: list[str], names: list[str]) -> int:
    """Of place names sharing the words' sound key (folded, in the index's order), the index of the
    one spelled most like the words with their vowels: "Эль-Маядин" is Al Mayādīn, not Al Madīnah.
    Ties keep the index's order (focus countries, then population); Arabic script writes too few
    vowels to tell, so there the first one stands."""
    if len(names) < 2 or _script(words[0]) == "arabic":
        return 0
    spelled = _letters(words)
    scores = [SequenceMatcher(None, spelled, "".join(n.split(" "))).ratio() for n in names]
    return max(range(len(names)), key=lambda i: (scores[i], -i))
