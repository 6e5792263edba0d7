"""Inflected trigger words: `<seize> {place}` in rules.yaml stands for seize, seizes, seized, seizing.

Written by hand rather than with a lemmatizer: the engine needs the forms *generated* once, at compile
time, so one Aho-Corasick pass still finds them all; a lemmatizer would run on every word of every post.
Russian and Ukrainian need no table: their stems are written with '*' ("захват*" covers захватили,
захватывают, захвачен is "захвач*"), which the automaton matches as a prefix.
"""

from __future__ import annotations

import re
from itertools import product

_LEMMA = re.compile(r"<([^<>\s]+)>")

# English verbs whose forms the regular rules below would get wrong.
_EN_IRREGULAR: dict[str, tuple[str, ...]] = {
    "fall": ("fall", "falls", "fell", "fallen", "falling"),
    "take": ("take", "takes", "took", "taken", "taking"),
    "retake": ("retake", "retakes", "retook", "retaken", "retaking"),
    "overtake": ("overtake", "overtakes", "overtook", "overtaken"),
    "overrun": ("overrun", "overruns", "overran", "overrunning"),
    "withdraw": ("withdraw", "withdraws", "withdrew", "withdrawn", "withdrawing"),
    "win": ("win", "wins", "won", "winning"),
    "sweep": ("sweep", "sweeps", "swept", "sweeping"),
    "lose": ("lose", "loses", "lost", "losing"),
    "leave": ("leave", "leaves", "left", "leaving"),
    "pull": ("pull", "pulls", "pulled", "pulling"),
    "control": ("control", "controls", "controlled", "controlling"),
    "get": ("get", "gets", "got", "gotten"),
    "drive": ("drive", "drives", "drove", "driven"),
    "roll": ("roll", "rolls", "rolled", "rolling"),
    "free": ("free", "frees", "freed", "freeing"),
    "flee": ("flee", "flees", "fled", "fleeing"),
    "surrender": ("surrender", "surrenders", "surrendered", "surrendering"),
    "conquer": ("conquer", "conquers", "conquered", "conquering"),
    "enter": ("enter", "enters", "entered", "entering"),
}

# French verbs that do not follow the -er pattern, with every form a report uses (participles agree).
_FR_IRREGULAR: dict[str, tuple[str, ...]] = {
    "prendre": ("prend", "prennent", "pris", "prise", "prises", "prenant", "prenait", "prenaient"),
    "reprendre": ("reprend", "reprennent", "repris", "reprise", "reprises", "reprenant"),
    "conquérir": ("conquiert", "conquièrent", "conquis", "conquise", "conquises"),
    "reconquérir": ("reconquiert", "reconquièrent", "reconquis", "reconquise", "reconquises"),
    "tenir": ("tient", "tiennent", "tenu", "tenue", "tenus", "tenues"),
    "perdre": ("perd", "perdent", "perdu", "perdue", "perdus", "perdues"),
    "abandonner": ("abandonne", "abandonnent", "abandonné", "abandonnée", "abandonnés", "abandonnées"),
}
_FR_ER_ENDINGS = ("e", "ent", "é", "ée", "és", "ées", "er", "ant", "ait", "aient")


def english_forms(lemma: str) -> tuple[str, ...]:
    """Base, third person, past, participle and -ing forms of an English verb."""
    if lemma in _EN_IRREGULAR:
        return _EN_IRREGULAR[lemma]
    if lemma.endswith("e"):
        return (lemma, lemma + "s", lemma + "d", lemma[:-1] + "ing")
    if len(lemma) > 2 and lemma.endswith("y") and lemma[-2] not in "aeiou":
        return (lemma, lemma[:-1] + "ies", lemma[:-1] + "ied", lemma + "ing")
    if lemma.endswith(("s", "sh", "ch", "x", "z")):
        return (lemma, lemma + "es", lemma + "ed", lemma + "ing")
    return (lemma, lemma + "s", lemma + "ed", lemma + "ing")


def french_forms(lemma: str) -> tuple[str, ...]:
    """Present, participles (agreeing in gender and number), infinitive and imperfect of a French verb."""
    if lemma in _FR_IRREGULAR:
        return _FR_IRREGULAR[lemma]
    if lemma.endswith("er"):
        stem = lemma[:-2]
        return tuple(stem + ending for ending in _FR_ER_ENDINGS)
    if lemma.endswith("ir"):  # -ir verbs of the second group: libérer is -er, but envahir is not
        stem = lemma[:-2]
        return tuple(stem + e for e in ("it", "issent", "i", "ie", "is", "ies", "ir", "issant"))
    return (lemma,)


_FORMS = {"en": english_forms, "fr": french_forms}


def word_forms(lemma: str, lang: str) -> tuple[str, ...]:
    """Every form of `lemma` in `lang`; languages without a table keep the word as written."""
    forms = _FORMS.get(lang)
    return forms(lemma) if forms else (lemma,)


def expand_phrase(phrase: str, lang: str) -> list[str]:
    """`phrase` with every <lemma> replaced by each of its forms: one phrase per combination."""
    parts = _LEMMA.split(phrase)
    if len(parts) == 1:
        return [phrase]
    choices = [(part,) if i % 2 == 0 else word_forms(part, lang) for i, part in enumerate(parts)]
    return ["".join(combo) for combo in product(*choices)]
