"""The one pass over a post: every trigger, cancel cue and actor name of every rule and language, and
whether a cue (or an earlier year) cancels a trigger."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

import ahocorasick

from bot.rules.actors import ActorMention
from bot.rules.compiled import LEAVING, SHARED, TAIL_REACH, ActorPattern, CompiledRules, CuePattern, Direction
from bot.rules.text import AFTER_WORDS, clause_bounds, dating_years, fold, has_clause_mark, is_word_char

_ARABIC_PROCLITICS = frozenset("وبلف")
PARTIAL = "partial"
# A past cue ending in "after" ("months after", "un an après") that follows the trigger dates an earlier
# event the report measures from, not the report (folded).
# A book or a film, wherever it stands in the sentence, makes a fall its subject, not the news: a past
# cue of these words is never background in a later clause.
_WORKS = frozenset(
    fold(w)
    for w in "book documentary film novel livre documentaire roman книга фильм фільм".split()
    + "كتاب فيلم مستند کتاب فیلم".split()
)


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int  # exclusive
    rule: int
    lang: str
    place: Direction
    phrase: str
    withdrawal: bool = False
    entering: bool = False  # counts only when the post says the holders left (a `leaving` cue)
    closes: bool = False  # counts only where its clause ends ("Курахово наше." but not "наш репортаж")
    refers: bool = False  # holds its own reference ("взяли місто під контроль", "تحريرها")


@dataclass(frozen=True, slots=True)
class CueHit:
    start: int
    end: int
    cue: CuePattern


@dataclass(frozen=True, slots=True)
class Cancel:
    """Why a trigger does not count: the cue family that cancelled it (or "year") and a sentence for
    people. The family is data, so a denial is known by its family, never by the wording."""

    family: str
    why: str


YEAR = "year"
QUESTION = "question"
DENIAL = "denial"
PAST = "past"
HEDGE = "hedge"
OTHER_SENSE = "other_sense"


@dataclass
class Scan:
    triggers: list[Hit] = field(default_factory=list)
    cues: list[CueHit] = field(default_factory=list)
    actors: list[ActorMention] = field(default_factory=list)


class _Squeezed:
    """The folded text with runs of spaces read as one, and the way back to the folded offsets.

    Folding turns quotes and dashes into spaces, so "the 'liberation' of X" and "« libérer »" leave
    two spaces where a phrase has one; the automaton reads the squeezed text, offsets stay the post's."""

    __slots__ = ("_folded", "_shifts", "_starts", "text")

    def __init__(self, folded: str, squeezed: str) -> None:
        self._folded = folded
        self.text = squeezed
        self._starts: list[int] | None = None  # squeezed offsets where a new shift begins
        self._shifts: list[int] = [0]  # spaces dropped before them

    def original(self, offset: int) -> int:
        if self.text is self._folded:
            return offset
        if self._starts is None:  # built only for posts that hold a phrase: most stop before
            self._starts = [0]
            shift = 0
            for m in _SPACES.finditer(self._folded):
                self._starts.append(m.start() + 1 - shift)
                shift += m.end() - m.start() - 1
                self._shifts.append(shift)
        return offset + self._shifts[bisect_right(self._starts, offset) - 1]


_SPACES = re.compile(r" {2,}")
# Marks that folding turns into spaces beside a word: "the 'liberation' of", "« libérer »", "X — taken".
QUOTE_MARKS = re.compile("[\"'«»“”„‘’`´‐‑‒–—―]")


def scan(
    compiled: CompiledRules, folded: str, author: str | None, everything: bool = False, quoted: bool = True
) -> Scan:
    """Triggers that apply to this author, cues and actor names, with their offsets. Unless asked for
    `everything`, a post with no trigger costs one pass over the trigger phrases and returns nothing.
    `quoted`: whether the post has quote marks or dashes, which folding leaves as runs of spaces (runs
    left by a blanked link need no squeezing: no phrase spans a link)."""
    found = Scan()
    rules = compiled.rules
    handle = author.lower() if author else None
    text = _SPACES.sub(" ", folded) if quoted else folded
    if not everything and not compiled.regexes and not _has_trigger(compiled, text, handle):
        return found
    if len(compiled.automaton):
        _every_phrase(compiled, _Squeezed(folded, text), handle, found)
    for rx in compiled.regexes:
        if not reads_author(rules[rx.rule].accounts, handle):
            continue
        for m in rx.regex.finditer(folded):
            if m.end() > m.start():
                found.triggers.append(Hit(m.start(), m.end(), rx.rule, rx.lang, rx.place, rx.regex.pattern))
    found.triggers = _longest(found.triggers)
    return found


def _every_phrase(compiled: CompiledRules, squeezed: _Squeezed, handle: str | None, found: Scan) -> None:
    rules = compiled.rules
    folded, back = squeezed.text, squeezed.original
    for last, (key, patterns) in compiled.automaton.iter(folded):
        first = last - len(key) + 1
        if not _bounded(folded, first, last + 1, True):
            continue
        whole = _bounded(folded, first, last + 1, False)
        start = end = -1
        for pattern in patterns:
            if not (whole or pattern.prefix):
                continue
            if start < 0:
                start, end = back(first), back(last) + 1
            if isinstance(pattern, CuePattern):
                found.cues.append(CueHit(start, end, pattern))
            elif isinstance(pattern, ActorPattern):
                found.actors.append(ActorMention(start, end, pattern.actor))
            elif reads_author(rules[pattern.rule].accounts, handle):
                stop = end
                if pattern.tail:
                    tail = _tail_end(folded, last + 1, pattern.tail)
                    if tail < 0:
                        continue
                    stop = back(tail - 1) + 1
                found.triggers.append(
                    Hit(
                        start,
                        stop,
                        pattern.rule,
                        pattern.lang,
                        pattern.place,
                        pattern.phrase,
                        pattern.withdrawal,
                        pattern.entering,
                        pattern.closes,
                        pattern.refers,
                    )
                )


def _has_trigger(compiled: CompiledRules, folded: str, handle: str | None) -> bool:
    """Whether the post holds a trigger; an entering phrase only when a leaving cue stands there too."""
    if not len(compiled.trigger_automaton):
        return False
    rules = compiled.rules
    entering = False
    for end, (key, patterns) in compiled.trigger_automaton.iter(folded):
        start = end - len(key) + 1
        for pattern in patterns:
            if (
                reads_author(rules[pattern.rule].accounts, handle)
                and _bounded(folded, start, end + 1, pattern.prefix)
                and (not pattern.tail or _tail_end(folded, end + 1, pattern.tail) >= 0)
            ):
                if not pattern.entering:
                    return True
                entering = True
    return entering and _has_phrase(compiled.leaving_automaton, folded)


def _tail_end(folded: str, end: int, tail: str) -> int:
    """Where `tail` ends when it stands within TAIL_REACH words after offset `end` in the same clause
    ("drove IS out of": "out of" after "drove"), else -1. The first word may run on ("выбила")."""
    pos, n = end, len(folded)
    while pos < n and is_word_char(folded[pos]):
        pos += 1
    for _ in range(TAIL_REACH + 1):
        while pos < n and not is_word_char(folded[pos]):
            if folded[pos] in _CLAUSE_STOPS:
                return -1
            pos += 1
        if folded.startswith(tail, pos) and _bounded(folded, pos, pos + len(tail), False):
            return pos + len(tail)
        while pos < n and is_word_char(folded[pos]):
            pos += 1
    return -1


_CLAUSE_STOPS = frozenset(".!?;:,،؛\n")


def _has_phrase(automaton: ahocorasick.Automaton, folded: str) -> bool:
    if not len(automaton):
        return False
    for end, (key, patterns) in automaton.iter(folded):
        start = end - len(key) + 1
        if any(_bounded(folded, start, end + 1, p.prefix) for p in patterns):
            return True
    return False


def _longest(hits: list[Hit]) -> list[Hit]:
    """Drop a trigger lying inside a longer one of the same rule ('fallen' in 'has fallen'): one verb,
    one piece of evidence. A withdrawal keeps its own reading."""
    if len(hits) < 2:
        return hits
    return [
        h
        for h in hits
        if not any(
            o.rule == h.rule
            and o.start <= h.start
            and h.end <= o.end
            and (o.end - o.start > h.end - h.start or (o.withdrawal and not h.withdrawal))
            for o in hits
        )
    ]


def cancel_reason(
    compiled: CompiledRules,
    hit: Hit,
    sentence: int,
    cues: list[CueHit],
    ends: list[int],
    text: str,
    year: int,
) -> Cancel | None:
    """Why the trigger does not count in this sentence (None when nothing cancels it). Partial-control
    cues are left to `partial_reason`: they reach only the clause of the trigger and its place.

    A past cue in a clause *after* the trigger's is background to a report, not the report's time
    ("Hit is liberated, 18 months after Daesh overran it"; "reprise par l'armée, un an après sa
    chute"); before the trigger or in its clause it dates the event ("On this day in 2014, … fell")."""
    if _asked(text, ends, sentence):
        return Cancel(QUESTION, "the sentence is a question ('Has X fallen?')")
    clause: list[tuple[int, int]] = []  # the trigger's clause, found once when a cue needs it
    for cue in cues:
        if cue.cue.family in (PARTIAL, LEAVING):
            continue
        if cue.cue.rule in (SHARED, hit.rule) and bisect_right(ends, cue.start) == sentence:
            if _elsewhere(cue, hit, text, clause, compiled.context.conjunctions) or owns(hit, cue):
                continue
            return Cancel(
                cue.cue.family, f"cue '{text[cue.start : cue.end]}' ({cue.cue.family}) in the same sentence"
            )
    if compiled.rules[hit.rule].rule.cancel_on_past_year:
        opens = ends[sentence - 1] if 0 < sentence <= len(ends) else 0
        earlier = [y for y in dating_years(text, opens, hit.start, hit.end) if y < year]
        if earlier:
            return Cancel(YEAR, f"the year {earlier[0]} in the same clause is before the post's ({year})")
    return None


def owns(hit: Hit, cue: CueHit) -> bool:
    """Whether a denial cue is the trigger's own verb: "відбили атаку" (repelled an attack) denies,
    "відбили Аден" (took Aden back) reports; the engine takes such a trigger's place only right after
    the verb (bot/rules/engine.py)."""
    return cue.cue.family == DENIAL and cue.start == hit.start and cue.end <= hit.end


def _elsewhere(
    cue: CueHit, hit: Hit, text: str, clause: list[tuple[int, int]], conjunctions: frozenset[str]
) -> bool:
    """Whether a cue of the trigger's sentence speaks of something else than the trigger's event."""
    family = cue.cue.family
    if family in (OTHER_SENSE, PAST) and not clause:
        clause.append(clause_bounds(text, hit.start, hit.end))
    if family == OTHER_SENSE:
        return not clause[0][0] <= cue.start < clause[0][1]  # "« victoire totale » : Mossoul est libérée"
    if family == HEDGE:
        if _after_word_before(text, cue.start):
            return True  # "پس از بیرون راندن دیگر گروه‌ها": what was done before the report, not a plan
        if cue.start >= hit.end and _aimed_at_next(text, cue, hit, clause, conjunctions):
            return True  # "взяли Аксум … й продовжують наступ на Мекеле": the next target, not this town
        return hit.withdrawal and cue.start >= hit.end  # "retrait de X face à la menace": why they left
    if family == PAST and cue.start >= hit.end:
        if fold(text[cue.start : cue.end]) in _WORKS:
            return False  # "« La Chute de Raqqa », documentaire sur …": the fall is a work's subject
        said = fold(text[cue.start : cue.end]).split()
        if said and (said[-1] in AFTER_WORDS or said[0] in AFTER_WORDS):
            return True  # "liberated from ISIS seven months after it was lost", "بعد أن أخلاها": earlier
        return cue.start >= clause[0][1]
    return False


def _after_word_before(text: str, start: int) -> bool:
    """Whether the word right before offset `start` is "after" (after, après, بعد, پس از, после)."""
    words = _WORD.findall(text[max(0, start - 24) : start])
    return bool(words) and (fold(words[-1]) in AFTER_WORDS or fold(" ".join(words[-2:])) in _AFTER_PHRASES)


_AFTER_PHRASES = frozenset({"پس از", "بعد از", "له", "after the", "apres la", "apres le"})


def _asked(text: str, ends: list[int], sentence: int) -> bool:
    """Whether the sentence ends with a question mark ("Has X fallen?"): a question reports nothing."""
    if sentence >= len(ends):
        return False
    end = ends[sentence]
    return any(mark in text[max(0, end - 3) : end] for mark in "?؟")


def partial_reason(
    hit: Hit,
    cues: list[CueHit],
    text: str,
    place: tuple[int, int],
    near: tuple[int, int],
    centres: frozenset[str] = frozenset(),
    asides: tuple[tuple[int, int], ...] = (),
    districts: frozenset[str] = frozenset(),
    conjunctions: frozenset[str] = frozenset(),
) -> str:
    """A partial-control cue next to the trigger and its place (`near`), in their clause(s): "took half
    of X" and "seized X airport" are not X; "X is taken, units left the prison" is. Not a district word
    before a centre word ("د X ولسوالۍ مرکز": the district's centre is the town), nor a cue inside an
    aside that describes the place ("الفاشر، آخرین پایگاه ارتش، ..."), nor the district word of a town
    that names its district ("امام صاحب ولسوالۍ", "ولسوالی خان‌آباد": `districts`), nor a part taken
    besides the place ("Bamyan and its airport": `conjunctions`), and a number with a per cent sign
    ("70% of X") is one."""
    first, last = clause_bounds(text, min(hit.start, place[0]), max(hit.end, place[1]))
    first, last = max(first, near[0]), min(last, near[1])
    for cue in cues:
        if cue.cue.family == PARTIAL and cue.cue.rule in (SHARED, hit.rule) and first <= cue.start < last:
            if any(lo <= cue.start < hi for lo, hi in asides):
                continue
            if _names_district_of(text, cue, place, districts) or _joined_to(text, cue, place, conjunctions):
                continue
            following = _WORD.search(text, cue.end)
            if following and following.start() - cue.end <= 2 and fold(following.group()) in centres:
                continue
            preceding = _WORD.findall(text[max(0, cue.start - 16) : cue.start])
            if preceding and fold(preceding[-1]) in centres:
                continue  # "مرکز ولسوالی X": the district's centre
            return f"cue '{text[cue.start : cue.end]}' ({cue.cue.family}) in the same clause"
    percent = _PERCENT.search(text, first, last)
    if percent:
        return f"'{percent.group()}' (a share of the place) in the same clause"
    return ""


def _joined_to(text: str, cue: CueHit, place: tuple[int, int], conjunctions: frozenset[str]) -> bool:
    """Whether a conjunction joins the cue to the place within a few words, no clause mark between
    ("took Bamyan and its airport", "the airport and the town of X"): the part is taken as well."""
    between = _between(text, cue, place)
    words = [fold(w) for w in _WORD.findall(between)]
    if not words or len(words) > 4 or has_clause_mark(between):
        return False
    return any(w in conjunctions for w in words)


def _between(text: str, cue: CueHit, place: tuple[int, int]) -> str:
    """The text between a cue and a place, either way round; a cue may end inside its word ("квартал*"
    in "квартали"), so the rest of that word is not counted as between."""
    if cue.start >= place[1]:
        return text[place[1] : cue.start]
    rest = _WORD.match(text, cue.end)
    return text[rest.end() if rest else cue.end : place[0]]


# The last word of a hedge that names its own target ("offensive on", "наступ на", "نحو"): after a report,
# in a clause of its own or joined to it by "and", such a hedge is about the next town.
_TOWARDS = frozenset({"on", "toward", "towards", "на", "vers", "نحو", "سوی", "سمت"})


def _aimed_at_next(
    text: str, cue: CueHit, hit: Hit, clause: list[tuple[int, int]], conjunctions: frozenset[str]
) -> bool:
    """Whether a hedge after the trigger, in a clause of its own or joined by "and", aims at a target
    of its own."""
    words = fold(text[cue.start : cue.end]).split()
    if not words or words[-1] not in _TOWARDS:
        return False
    if not clause:
        clause.append(clause_bounds(text, hit.start, hit.end))
    between = fold(text[hit.end : cue.start]).split()
    return cue.start >= clause[0][1] or any(w in conjunctions for w in between)


def _names_district_of(text: str, cue: CueHit, place: tuple[int, int], districts: frozenset[str]) -> bool:
    """Whether the cue is a district word right beside the place ("X ولسوالۍ", "ولسوالی X", "د X
    ولسوالۍ"): the district is named after its centre, the town taken."""
    if fold(text[cue.start : cue.end]) not in districts:
        return False
    between = _between(text, cue, place)
    return len(between) <= 3 and not between.strip()


_WORD = re.compile(r"\w+")
_PERCENT = re.compile(r"\d+\s?[%٪]")


def reads_author(accounts: frozenset[str] | None, handle: str | None) -> bool:
    return accounts is None or (handle is not None and handle in accounts)


def _bounded(folded: str, start: int, end: int, prefix: bool) -> bool:
    """Whether folded[start:end] stands as whole words (an Arabic-script proclitic may precede it)."""
    if start > 0 and is_word_char(folded[start - 1]):
        before = folded[start - 1]
        if before not in _ARABIC_PROCLITICS or (start > 1 and is_word_char(folded[start - 2])):
            return False
    return prefix or end >= len(folded) or not is_word_char(folded[end])
