"""The one pass over a post: every trigger, cancel cue and actor name of every rule and language, and
whether a cue (or an earlier year) cancels a trigger."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from bot.rules.actors import ActorMention
from bot.rules.compiled import SHARED, ActorPattern, CompiledRules, CuePattern, Direction
from bot.rules.text import clause_around, clause_bounds, is_word_char, years_in

_ARABIC_PROCLITICS = frozenset("وبلف")
PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int  # exclusive
    rule: int
    lang: str
    place: Direction
    phrase: str
    withdrawal: bool = False


@dataclass(frozen=True, slots=True)
class CueHit:
    start: int
    end: int
    cue: CuePattern


@dataclass
class Scan:
    triggers: list[Hit] = field(default_factory=list)
    cues: list[CueHit] = field(default_factory=list)
    actors: list[ActorMention] = field(default_factory=list)


def scan(compiled: CompiledRules, folded: str, author: str | None, everything: bool = False) -> Scan:
    """Triggers that apply to this author, cues and actor names, with their offsets. Unless asked for
    `everything`, a post with no trigger costs one pass over the trigger phrases and returns nothing."""
    found = Scan()
    rules = compiled.rules
    handle = author.lower() if author else None
    if not everything and not compiled.regexes and not _has_trigger(compiled, folded, handle):
        return found
    if len(compiled.automaton):
        _every_phrase(compiled, folded, handle, found)
    for rx in compiled.regexes:
        if not _reads(rules[rx.rule].accounts, handle):
            continue
        for m in rx.regex.finditer(folded):
            if m.end() > m.start():
                found.triggers.append(Hit(m.start(), m.end(), rx.rule, rx.lang, rx.place, rx.regex.pattern))
    found.triggers = _longest(found.triggers)
    return found


def _every_phrase(compiled: CompiledRules, folded: str, handle: str | None, found: Scan) -> None:
    rules = compiled.rules
    for end, (key, patterns) in compiled.automaton.iter(folded):
        start = end - len(key) + 1
        for pattern in patterns:
            if not _bounded(folded, start, end + 1, pattern.prefix):
                continue
            if isinstance(pattern, CuePattern):
                found.cues.append(CueHit(start, end + 1, pattern))
            elif isinstance(pattern, ActorPattern):
                found.actors.append(ActorMention(start, end + 1, pattern.actor))
            elif _reads(rules[pattern.rule].accounts, handle):
                found.triggers.append(
                    Hit(
                        start,
                        end + 1,
                        pattern.rule,
                        pattern.lang,
                        pattern.place,
                        pattern.phrase,
                        pattern.withdrawal,
                    )
                )


def _has_trigger(compiled: CompiledRules, folded: str, handle: str | None) -> bool:
    if not len(compiled.trigger_automaton):
        return False
    rules = compiled.rules
    for end, (key, patterns) in compiled.trigger_automaton.iter(folded):
        start = end - len(key) + 1
        for pattern in patterns:
            if _reads(rules[pattern.rule].accounts, handle) and _bounded(
                folded, start, end + 1, pattern.prefix
            ):
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
) -> str:
    """Why the trigger does not count in this sentence ('' when nothing cancels it). Partial-control
    cues are left to `partial_reason`: they reach only the clause of the trigger and its place."""
    for cue in cues:
        if cue.cue.family == PARTIAL:
            continue
        if cue.cue.rule in (SHARED, hit.rule) and bisect_right(ends, cue.start) == sentence:
            return f"cue '{text[cue.start : cue.end]}' ({cue.cue.family}) in the same sentence"
    if compiled.rules[hit.rule].rule.cancel_on_past_year:
        earlier = [y for y in years_in(clause_around(text, hit.start, hit.end)) if y < year]
        if earlier:
            return f"the year {earlier[0]} in the same clause is before the post's ({year})"
    return ""


def partial_reason(
    hit: Hit, cues: list[CueHit], text: str, place: tuple[int, int], near: tuple[int, int]
) -> str:
    """A partial-control cue next to the trigger and its place (`near`), in their clause(s): "took half
    of X" and "seized X airport" are not X; "X is taken, units left the prison" is."""
    first, last = clause_bounds(text, min(hit.start, place[0]), max(hit.end, place[1]))
    first, last = max(first, near[0]), min(last, near[1])
    for cue in cues:
        if cue.cue.family == PARTIAL and cue.cue.rule in (SHARED, hit.rule) and first <= cue.start < last:
            return f"cue '{text[cue.start : cue.end]}' ({cue.cue.family}) in the same clause"
    return ""


def _reads(accounts: frozenset[str] | None, handle: str | None) -> bool:
    return accounts is None or (handle is not None and handle in accounts)


def _bounded(folded: str, start: int, end: int, prefix: bool) -> bool:
    """Whether folded[start:end] stands as whole words (an Arabic-script proclitic may precede it)."""
    if start > 0 and is_word_char(folded[start - 1]):
        before = folded[start - 1]
        if before not in _ARABIC_PROCLITICS or (start > 1 and is_word_char(folded[start - 2])):
            return False
    return prefix or end >= len(folded) or not is_word_char(folded[end])
