"""rules.yaml turned into what the matcher runs: one Aho-Corasick automaton over every trigger and
cancel cue of every rule and language, plus per-rule settings in plain tuples and sets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import ahocorasick
import re2

from bot.rules.gazetteer import PlaceIndex, place_index
from bot.rules.inflect import declined_name, expand_phrase
from bot.rules.schema import PLACE_SLOT, Actor, PlaceWords, RegexTrigger, Rule, RulesFile, compile_regex
from bot.rules.text import fold_phrase
from bot.sources.accounts import author_key

Direction = Literal["before", "after", "any"]
SHARED = -1  # rule index of cues that apply to every rule
LEAVING = "leaving"  # the cue family that lets an entering phrase count


@dataclass(frozen=True, slots=True)
class TriggerPattern:
    rule: int
    lang: str
    phrase: str  # as written in rules.yaml
    place: Direction
    prefix: bool  # the last word may continue ("захвати*")
    withdrawal: bool = False  # the holders leaving: an actor as its subject is the side that left
    entering: bool = False  # a force entering: a report only beside a `leaving` cue
    closes: bool = False  # written with a final '.': counts only where its clause ends ("Бахмут наш.")
    # "drove … out of {place}": the words after '…' must follow within TAIL_REACH words, the object
    # of the verb between them ("drove IS out of X", "выбила ИГ из X", "вибили джихадистів з X")
    tail: str = ""
    # the phrase holds its own reference ("взяли місто під контроль", "تحريرها", "l'ont prise"): with
    # no place beside it, it speaks of the place the post named first
    refers: bool = False


@dataclass(frozen=True, slots=True)
class ActorPattern:
    actor: str  # the name in rules.yaml's actors list
    prefix: bool


@dataclass(frozen=True, slots=True)
class CuePattern:
    rule: int  # SHARED or a rule index
    lang: str
    family: str
    phrase: str
    prefix: bool


@dataclass(frozen=True, slots=True)
class RegexPattern:
    rule: int
    lang: str
    regex: re2._Regexp
    place: Direction


@dataclass
class CompiledRule:
    rule: Rule
    accounts: frozenset[str] | None  # lower-case handles, None for any account
    blockers: tuple[str, ...]  # folded, padded with spaces for whole-word search
    exclude_places: frozenset[int]


@dataclass(frozen=True)
class PlaceContext:
    """rules.yaml's place_words, folded into word tuples."""

    near: frozenset[tuple[str, ...]]  # may stand a few filler words before the name
    region_before: frozenset[tuple[str, ...]]  # must stand right before the name
    region_after: frozenset[tuple[str, ...]]
    filler: frozenset[str]
    conjunctions: frozenset[str]
    references: frozenset[str]
    capital_of: frozenset[tuple[str, ...]]
    longest: int
    # Every word of the phrases above: a word glued to an Arabic proclitic ("بولاية" = in the state of)
    # is read bare when the bare word is one of these.
    vocabulary: frozenset[str] = frozenset()
    # After a region word, the region's centre is the town of that name ("د سنګین ولسوالۍ مرکز",
    # "مرکز ولسوالی X", "district centre"): not the region.
    centres: frozenset[str] = frozenset()
    # A district named after its centre town ("X ولسوالۍ", "ولسوالی X"): beside a name, the town.
    districts: frozenset[str] = frozenset()
    # Right after a name: the government of that capital speaking ("Kyiv says"), not a place taken.
    speaking_after: frozenset[tuple[str, ...]] = frozenset()
    speaking_longest: int = 0
    # Right before or after a name: the government of that place holding another ("Baghdad's control").
    held_by_before: frozenset[tuple[str, ...]] = frozenset()
    held_by_after: frozenset[tuple[str, ...]] = frozenset()
    # Right after a name: a thing named after the place ("the Izium group"), not the place.
    thing_after: frozenset[tuple[str, ...]] = frozenset()

    def bare(self, word: str) -> str:
        """The word without an Arabic proclitic (و ب ل ف) when the bare word is a place word."""
        if len(word) > 3 and word[0] in "وبلف" and word[1:] in self.vocabulary:
            return word[1:]
        return word

    @classmethod
    def from_words(cls, words: PlaceWords) -> PlaceContext:
        def tuples(phrases: list[str]) -> frozenset[tuple[str, ...]]:
            return frozenset(tuple(fold_phrase(p).split()) for p in phrases if fold_phrase(p))

        near = tuples(words.near)
        before = tuples(words.region_before)
        after = tuples(words.region_after)
        capital_of = tuples(words.capital_of)
        speaking = tuples(words.speaking_after)
        held_before = tuples(words.held_by_before)
        held_after = tuples(words.held_by_after)
        thing = tuples(words.thing_after)
        every = near | before | after | capital_of | held_before | thing
        return cls(
            near=near,
            region_before=before,
            region_after=after,
            filler=frozenset(w for p in words.filler for w in fold_phrase(p).split()),
            conjunctions=frozenset(w for p in words.conjunctions for w in fold_phrase(p).split()),
            references=frozenset(w for p in words.references for w in fold_phrase(p).split()),
            capital_of=capital_of,
            longest=max((len(t) for t in every), default=1),
            vocabulary=frozenset(w for t in every for w in t),
            centres=frozenset(w for p in words.centres for w in fold_phrase(p).split()),
            districts=frozenset(fold_phrase(p) for p in words.named_districts),  # one word each (schema)
            speaking_after=speaking,
            speaking_longest=max((len(t) for t in speaking | held_after), default=0),
            held_by_before=held_before,
            held_by_after=held_after,
            thing_after=thing,
        )


@dataclass
class CompiledRules:
    source: RulesFile
    rules: list[CompiledRule]
    automaton: ahocorasick.Automaton
    # The trigger phrases alone: most posts hold none, and one pass over this says so.
    trigger_automaton: ahocorasick.Automaton
    # The `leaving` cues alone: an entering phrase ("entered", "وارد") is common, and counts only beside one.
    leaving_automaton: ahocorasick.Automaton
    regexes: list[RegexPattern]
    places: PlaceIndex
    context: PlaceContext
    trust: dict[str, int] = field(default_factory=dict)  # lower-case handle -> trust tier

    @property
    def languages(self) -> list[str]:
        return sorted({lang for r in self.source.rules for lang in r.triggers})


TAIL_REACH = 4
# Object pronouns a phrase may hold instead of its place ("l'ont prise", "взяли його під контроль").
_PRONOUNS = frozenset({"it", "la", "l", "его", "ее", "её", "их", "його", "її", "їх"})


def _refers(key: str, place: Direction, references: frozenset[str]) -> bool:
    """Whether a phrase with no place slot names its place by a reference word or a pronoun."""
    if place != "any":
        return False
    words = key.split()
    return any(w in references or w in _PRONOUNS or (len(w) > 4 and w.endswith("ها")) for w in words)


def _arabic_pronoun_forms(phrase: str) -> list[str]:
    """An Arabic phrase with its place after it, with an object pronoun instead: "السيطرة على {place}"
    -> "السيطرة عليها", "تحرير {place}" -> "تحريرها", "استعادة {place}" -> "استعادتها",
    "انسحب من {place}" -> "انسحب منها"."""
    if not phrase.endswith(" " + PLACE_SLOT):
        return []
    words = phrase[: -len(PLACE_SLOT)].split()
    if not words or any(w.endswith("*") for w in words):
        return []
    last = words[-1]
    if last in ("على", "علي"):
        ends = ["عليها", "عليه"]
    elif last == "من":
        ends = ["منها", "منه"]
    elif last in ("مدينة", "بلدة", "في", "فوق"):
        return []
    elif last.endswith("ة"):
        ends = [last[:-1] + "تها", last[:-1] + "ته"]
    else:
        ends = [last + "ها"]  # not "ه": folded, "استعاده" is the noun "استعادة"
    return [" ".join([*words[:-1], e]) for e in ends]


def _split_phrase(phrase: str) -> tuple[str, Direction, bool]:
    text = phrase.strip()
    place: Direction = "any"
    if text.startswith(PLACE_SLOT):
        place, text = "before", text[len(PLACE_SLOT) :]
    elif text.endswith(PLACE_SLOT):
        place, text = "after", text[: -len(PLACE_SLOT)]
    text = text.strip().rstrip(".").strip()
    prefix = text.endswith("*")
    return fold_phrase(text.rstrip("*")), place, prefix


def _account_handles(rule: Rule, source: RulesFile) -> frozenset[str] | None:
    if rule.accounts == "any":
        return None
    handles: set[str] = set()
    for ref in rule.accounts:
        if ref in source.account_groups:
            handles.update(author_key(a) for a in source.account_groups[ref].accounts)
        else:  # an account written in place: "@handle", "x:handle", "bsky:name.bsky.social", ...
            handles.add(author_key(ref))
    return frozenset(handles)


def _withdrawal_wins(
    found: list[TriggerPattern | CuePattern | ActorPattern],
) -> list[TriggerPattern | CuePattern | ActorPattern]:
    """A phrase listed both as a trigger and as a withdrawal of one rule counts once, as a withdrawal
    (so the actor named as its subject is not taken for the side that took the place)."""
    leaving = {(p.rule, p.place) for p in found if isinstance(p, TriggerPattern) and p.withdrawal}
    return [
        p
        for p in found
        if not (isinstance(p, TriggerPattern) and not p.withdrawal and (p.rule, p.place) in leaving)
    ]


def _add_triggers(
    add: Callable[[str, TriggerPattern], None], idx: int, rule: Rule, references: frozenset[str]
) -> list[RegexPattern]:
    """Every inflected form of the rule's trigger and withdrawal phrases; its regexes, returned.
    Arabic phrases also stand with an object pronoun for their place ("وتعلن تحريرها")."""
    regexes: list[RegexPattern] = []
    listed = [(lang, t, "") for lang, ts in rule.triggers.items() for t in ts]
    listed += [(lang, t, "withdrawal") for lang, ts in rule.withdrawal.items() for t in ts]
    listed += [(lang, t, "entering") for lang, ts in rule.entering.items() for t in ts]
    for lang, trigger, sort in listed:
        if isinstance(trigger, RegexTrigger):
            regexes.append(RegexPattern(idx, lang, compile_regex(trigger.regex), trigger.place))
            continue
        phrases = expand_phrase(trigger, lang)
        if lang == "ar" and sort != "entering":
            phrases += _arabic_pronoun_forms(trigger)
        for phrase in phrases:
            head, _, rest = phrase.partition("…")
            key, place, prefix = _split_phrase(
                head + (PLACE_SLOT if rest.rstrip().endswith(PLACE_SLOT) else "")
            )
            tail = _split_phrase(rest)[0] if rest else ""
            closes = phrase.rstrip().endswith(".")
            pattern = TriggerPattern(
                idx,
                lang,
                trigger,
                place,
                prefix,
                sort == "withdrawal",
                sort == "entering",
                closes,
                tail,
                _refers(key, place, references),
            )
            add(key, pattern)
    return regexes


def _actor_names(actor: Actor) -> set[str]:
    """Every name of an actor, Russian and Ukrainian ones in every case ("под контролем российских
    войск", "росіянами")."""
    names = {actor.name, *(n for names in actor.names.values() for n in names)}
    for lang in ("ru", "uk"):
        names.update(form for name in actor.names.get(lang, []) for form in declined_name(fold_phrase(name)))
    return names


def _automata(
    entries: dict[str, list[TriggerPattern | CuePattern | ActorPattern]],
) -> tuple[ahocorasick.Automaton, ahocorasick.Automaton, ahocorasick.Automaton]:
    """Every phrase in one automaton, the trigger phrases alone in a second, the leaving cues in a third."""
    automaton = ahocorasick.Automaton()
    trigger_automaton = ahocorasick.Automaton()
    leaving_automaton = ahocorasick.Automaton()
    for key, found in entries.items():
        patterns = tuple(_withdrawal_wins(found))
        automaton.add_word(key, (key, patterns))
        triggers = tuple(p for p in patterns if isinstance(p, TriggerPattern))
        if triggers:
            trigger_automaton.add_word(key, (key, triggers))
        leaving = tuple(p for p in patterns if isinstance(p, CuePattern) and p.family == LEAVING)
        if leaving:
            leaving_automaton.add_word(key, (key, leaving))
    for built in (automaton, trigger_automaton, leaving_automaton):
        if len(built):
            built.make_automaton()
    return automaton, trigger_automaton, leaving_automaton


def compile_rules(source: RulesFile, places: PlaceIndex | None = None) -> CompiledRules:
    entries: dict[str, list[TriggerPattern | CuePattern | ActorPattern]] = {}
    regexes: list[RegexPattern] = []
    rules: list[CompiledRule] = []

    def add(key: str, entry: TriggerPattern | CuePattern | ActorPattern) -> None:
        if key and entry not in entries.get(key, ()):
            entries.setdefault(key, []).append(entry)

    def add_cues(rule_idx: int, lang: str, families: dict[str, list[str]]) -> None:
        for family, phrases in families.items():
            for phrase in phrases:
                # the holders leaving, in every person of the past: вийшли, вийшов, вийшла; залишив
                forms = expand_phrase(phrase, lang) if family == LEAVING else [phrase]
                for form in forms:
                    key, _, prefix = _split_phrase(form)
                    add(key, CuePattern(rule_idx, lang, family, phrase, prefix))

    for lang, cue_families in source.cues.items():
        add_cues(SHARED, lang, cue_families.model_dump())
    for actor in source.actors:
        for name in _actor_names(actor):
            key, _, prefix = _split_phrase(name)
            add(key, ActorPattern(actor.name, prefix))
    context = PlaceContext.from_words(source.place_words)
    for idx, rule in enumerate(source.rules):
        regexes += _add_triggers(add, idx, rule, context.references)
        for lang, cue_families in rule.cancel.items():
            add_cues(idx, lang, cue_families.model_dump())
        blockers = tuple(f" {fold_phrase(b)} " for words in rule.gap_blockers.values() for b in words)
        rules.append(
            CompiledRule(rule, _account_handles(rule, source), blockers, frozenset(rule.exclude_places))
        )
    automaton, trigger_automaton, leaving_automaton = _automata(entries)
    trust = {
        author_key(handle): group.trust
        for group in source.account_groups.values()
        for handle in group.accounts
    }
    return CompiledRules(
        source=source,
        rules=rules,
        automaton=automaton,
        trigger_automaton=trigger_automaton,
        leaving_automaton=leaving_automaton,
        regexes=regexes,
        places=places if places is not None else place_index(source.gazetteer),
        context=context,
        trust=trust,
    )
