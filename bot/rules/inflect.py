"""Inflected trigger words: `<seize> {place}` in rules.yaml stands for seize, seizes, seized, seizing.

Written by hand rather than with a lemmatizer: the engine needs the forms *generated* once, at compile
time, so one Aho-Corasick pass still finds them all; a lemmatizer would run on every word of every post.
Russian and Ukrainian need no table: their stems are written with '*' ("захват*" covers захватили,
захватывают, захвачен is "захвач*"), which the automaton matches as a prefix.
"""

from __future__ import annotations

import re
from itertools import product

from bot.rules.text import fold

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
    "run": ("run", "runs", "ran", "running"),
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

_CYRILLIC_VOWELS = frozenset("аеёиоуыэюяіїє")
# A past verb written in one person of rules.yaml stands for all: захватили, захватил, захватила.
_PAST_ENDINGS = ("ли", "ла", "ло")
_MASCULINE_PAST = {"ru": "л", "uk": "в"}
# An English auxiliary in "{place} is taken" may carry an adverb: "X is fully liberated", "X was now
# effectively in the hands of"; French too: "X est désormais sous le contrôle".
_AUXILIARIES = {
    "en": ("is", "was", "has been", "have been", "had been", "are", "were", "is now"),
    "fr": ("est", "a été", "sont", "ont été", "est passée", "est tombée"),
}
_ADVERBS = {
    "en": ("fully", "now", "completely", "entirely", "effectively", "finally", "officially", "totally"),
    "fr": ("désormais", "totalement", "entièrement", "complètement", "officiellement", "définitivement"),
}


def slavic_forms(word: str, lang: str) -> tuple[str, ...]:
    """A Russian or Ukrainian word of a trigger in every person of the past (захватили -> захватил,
    захватила, захватило), and in Ukrainian with both spellings of the initial в/у (впав, упав)."""
    forms = [word]
    if not word.endswith("*") and len(word) >= 5 and word.endswith(_PAST_ENDINGS):
        stem = word[:-2]
        forms += [stem + e for e in (*_PAST_ENDINGS, _MASCULINE_PAST[lang]) if stem + e != word]
    if lang == "uk":
        for form in list(forms):
            if form[:1] in ("в", "у") and (len(form) == 1 or form[1] not in _CYRILLIC_VOWELS):
                forms.append(("у" if form[0] == "в" else "в") + form[1:])
    return tuple(dict.fromkeys(forms))


def _with_adverbs(phrase: str, lang: str) -> list[str]:
    """The phrase, and when it says "{place} <auxiliary> ..." the same with an adverb after it."""
    out = [phrase]
    for aux in _AUXILIARIES.get(lang, ()):
        head = "{place} " + aux + " "
        if phrase.startswith(head):
            rest = phrase[len(head) :]
            out += [head + adverb + " " + rest for adverb in _ADVERBS[lang] if not rest.startswith(adverb)]
    return out


def word_forms(lemma: str, lang: str) -> tuple[str, ...]:
    """Every form of `lemma` in `lang`; languages without a table keep the word as written."""
    forms = _FORMS.get(lang)
    return forms(lemma) if forms else (lemma,)


def expand_phrase(phrase: str, lang: str) -> list[str]:
    """`phrase` with every <lemma> replaced by each of its forms (one phrase per combination); Russian
    and Ukrainian past verbs in every person; an adverb after an auxiliary."""
    if lang in _MASCULINE_PAST:
        words = phrase.split(" ")
        return [" ".join(combo) for combo in product(*(slavic_forms(w, lang) for w in words))]
    out: list[str] = []
    for variant in _with_adverbs(phrase, lang):
        out += _spelled_both_ways(variant, lang)
    return out


def _lemma_forms(variant: str, lang: str) -> list[str]:
    parts = _LEMMA.split(variant)
    if len(parts) == 1:
        return [variant]
    choices = [(part,) if i % 2 == 0 else word_forms(part, lang) for i, part in enumerate(parts)]
    return ["".join(combo) for combo in product(*choices)]


# Loanwords Persian and Pashto spell two ways (Iranian کنترل, Dari and Pashto کنترول / کنټرول, which
# folds to کنترول): a phrase in either language stands in both spellings.
_TWO_SPELLINGS = {"کنترل": "کنترول", "کنترول": "کنترل", "کنټرول": "کنترل"}


def _spelled_both_ways(variant: str, lang: str) -> list[str]:
    forms = _lemma_forms(variant, lang)
    if lang not in ("fa", "ps"):
        return forms
    words = variant.split(" ")
    if not any(w in _TWO_SPELLINGS for w in words):
        return forms
    other = " ".join(_TWO_SPELLINGS.get(w, w) for w in words)
    return forms + _lemma_forms(other, lang)


# Case endings of Russian and Ukrainian nouns and adjectives, longest first: an actor's name is
# declined like any other ("российские войска", "российских войск", "российскими войсками").
_CASE_ENDINGS = tuple(
    sorted(
        set(
            fold(  # the words it strips are folded: й is и, ї is і
                "ами ями ими ыми ого его ому ему ая яя ую юю ое ее ие ые ий ый ій их ых им ым ої ою ею ой ей "
                "ом ем ам ям ах ях ов ев ів а я ы и і у ю е о"
            ).split()
        ),
        key=len,
        reverse=True,
    )
)
_SHORTEST_STEM = 4


def _case_stem(word: str, shortest: int = _SHORTEST_STEM) -> str:
    for ending in _CASE_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= shortest:
            return word[: -len(ending)]
    return word


def declined_name(name: str) -> list[str]:
    """A Russian or Ukrainian name (folded words) in every case: its first word with each case
    ending, its last word as a prefix ("российск* войск*" without the star inside). A name with a
    short word or an abbreviation (ВСУ, ЗС РФ) stays as written."""
    words = name.split(" ")
    if len(words[-1]) < _SHORTEST_STEM or not all(w.isalpha() for w in (words[0], words[-1])):
        return [name]
    last = _case_stem(words[-1]) + "*"
    if len(words) == 1:
        return [last]
    first = _case_stem(words[0], 3)
    firsts = dict.fromkeys([words[0], first, *(first + e for e in _CASE_ENDINGS)])
    return [" ".join([f, *words[1:-1], last]) for f in firsts]
