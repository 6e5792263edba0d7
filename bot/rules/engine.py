"""Where a post is matched: `Detector.detect(post) -> list[Match]`. Pure and synchronous, no I/O.

1. One Aho-Corasick pass over the folded text finds every trigger and cancel cue (most posts stop here).
2. For each trigger: a cue in the same sentence, or a year before the post's, cancels it.
3. Otherwise the place must stand on the trigger's side ({place} in the phrase), in the same sentence,
   within `max_gap_words`, with no gap blocker ("near", "outside") in between.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.posts import Post
from bot.rules.compiled import SHARED, CompiledRules, CuePattern, Direction
from bot.rules.gazetteer import Place
from bot.rules.language import detect_language
from bot.rules.match import Match
from bot.rules.text import (
    CLAUSE_MARKS,
    Token,
    blank_handles_and_links,
    clause_around,
    fold,
    is_word_char,
    nfc,
    sentence_ends,
    tokenize,
    years_in,
)

_ARABIC_PROCLITICS = frozenset("وبلف")


# The longest aside between commas skipped when walking back to a place: "X, capital of Y province, fell".
_APPOSITION_MAX_WORDS = 8


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int  # exclusive
    rule: int
    lang: str
    place: Direction
    phrase: str


@dataclass(frozen=True, slots=True)
class _PlaceHit:
    place: Place
    first: int  # token index
    last: int
    gap: int


class Detector:
    def __init__(self, compiled: CompiledRules, now: datetime | None = None) -> None:
        self.compiled = compiled
        self._now = now

    def detect(self, post: Post) -> list[Match]:
        text = nfc(post.text)
        folded = blank_handles_and_links(text, fold(text))
        triggers, cues = self._scan(folded, post.author)
        if not triggers:
            return []
        tokens = tokenize(folded)
        ends = sentence_ends(folded)
        year = (post.created_at or self._now or datetime.now(UTC)).year
        found: dict[tuple[int, int, str], tuple[float, list[str], Place]] = {}
        lang: str | None = None
        for hit in triggers:
            sentence = bisect_right(ends, hit.start)
            if self._cancelled(hit, sentence, cues, ends, text, year):
                continue
            for place_hit in self._places_near(hit, tokens, sentence, text):
                place = place_hit.place
                if place.geonameid in self.compiled.rules[hit.rule].exclude_places:
                    continue
                named_in = tokens[place_hit.first].sentence
                if named_in != sentence and self._cancelled(hit, named_in, cues, ends, text, year):
                    continue  # "On this day in 2014, ISIS swept into Mosul. … how the city fell"
                if lang is None:
                    lang = detect_language(text, post.lang) or hit.lang
                confidence = _confidence(place_hit.gap, hit, lang)
                evidence = [
                    text[hit.start : hit.end],
                    text[tokens[place_hit.first].start : tokens[place_hit.last].end],
                ]
                key = (hit.rule, place.geonameid or 0, place.name)
                if key in found:
                    best, old_evidence, _ = found[key]
                    confidence = min(0.99, max(best, confidence) + 0.1)
                    evidence = old_evidence + [e for e in evidence if e not in old_evidence]
                found[key] = (confidence, evidence, place)
        return [
            Match(
                post_id=post.id,
                rule=self.compiled.rules[rule_idx].rule.id,
                location=place.name,
                geonameid=place.geonameid,
                country=place.country,
                lang=lang,
                confidence=round(confidence, 2),
                evidence=evidence,
                author=post.author,
            )
            for (rule_idx, _, _), (confidence, evidence, place) in found.items()
            if confidence >= self.compiled.rules[rule_idx].rule.min_confidence
        ]

    def _scan(self, folded: str, author: str | None) -> tuple[list[_Hit], list[tuple[int, CuePattern]]]:
        """Triggers that apply to this author, and cues with their start offsets."""
        triggers: list[_Hit] = []
        cues: list[tuple[int, CuePattern]] = []
        rules = self.compiled.rules
        handle = author.lower() if author else None
        if len(self.compiled.automaton):
            for end, (key, patterns) in self.compiled.automaton.iter(folded):
                start = end - len(key) + 1
                for pattern in patterns:
                    if not _bounded(folded, start, end + 1, pattern.prefix):
                        continue
                    if isinstance(pattern, CuePattern):
                        cues.append((start, pattern))
                    elif _reads(rules[pattern.rule].accounts, handle):
                        triggers.append(
                            _Hit(start, end + 1, pattern.rule, pattern.lang, pattern.place, pattern.phrase)
                        )
        for rx in self.compiled.regexes:
            if not _reads(rules[rx.rule].accounts, handle):
                continue
            for m in rx.regex.finditer(folded):
                if m.end() > m.start():
                    triggers.append(_Hit(m.start(), m.end(), rx.rule, rx.lang, rx.place, rx.regex.pattern))
        return triggers, cues

    def _cancelled(
        self,
        hit: _Hit,
        sentence: int,
        cues: list[tuple[int, CuePattern]],
        sentence_ends: list[int],
        text: str,
        year: int,
    ) -> bool:
        for start, cue in cues:
            if cue.rule in (SHARED, hit.rule) and bisect_right(sentence_ends, start) == sentence:
                return True
        if self.compiled.rules[hit.rule].rule.cancel_on_past_year:
            return any(y < year for y in years_in(clause_around(text, hit.start, hit.end)))
        return False

    def _places_near(self, hit: _Hit, tokens: list[Token], sentence: int, text: str) -> list[_PlaceHit]:
        first = next((i for i, t in enumerate(tokens) if t.end > hit.start), len(tokens))
        last = max(
            first, next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i].start < hit.end), first)
        )
        rule = self.compiled.rules[hit.rule]
        places: list[_PlaceHit] = []
        if hit.place in ("after", "any"):
            places += self._walk(
                _Walk(tokens, text, sentence, 1, rule.rule.max_gap_words, rule.blockers), last + 1
            )
        if hit.place in ("before", "any"):
            places += self._walk(
                _Walk(tokens, text, sentence, -1, rule.rule.max_gap_words, rule.blockers), first - 1
            )
        if not places and self._refers_back(hit, tokens, first, last):
            earlier = self._first_place_before(tokens, first, text)
            if earlier is not None:
                place, lo, hi = earlier
                places.append(_PlaceHit(place, lo, hi, rule.rule.max_gap_words))
        return places

    def _walk(self, walk: _Walk, i: int) -> list[_PlaceHit]:
        """Places met walking from token i until the gap, a blocker or the sentence ends.

        After a place the walk goes on only through a list ("Kunduz, Taloqan and Pul-e Khumri").
        """
        found: list[_PlaceHit] = []
        gap = 0
        while walk.inside(i) and gap <= walk.max_gap:
            if walk.step > 0 and not found and walk.clause_mark_before(i):
                break  # "liberated, handing Moscow all of Luhansk": the place follows in the same clause
            if walk.step < 0 and not found and walk.clause_mark_before(i + 1):
                skipped = self._across_apposition(walk, i)
                if skipped is not None:
                    i = skipped  # "Lashkar Gah, capital of Helmand, has fallen": the aside does not count
            span = self._place_at(walk, i)
            if span is not None:
                place, lo, hi = span
                found.append(_PlaceHit(place, lo, hi, gap))
                following = self._next_in_list(walk, lo, hi)
                if following is None or self._place_at(walk, following) is None:
                    break
                i = following
                continue
            if walk.blockers and _blocked(walk.tokens, i, walk.step, walk.blockers):
                break
            if walk.tokens[i].text not in self.compiled.context.filler:
                gap += 1  # "the capital of the province": filler words do not widen the gap
            i += walk.step
        return found

    def _refers_back(self, hit: _Hit, tokens: list[Token], first: int, last: int) -> bool:
        """Whether 'the city' (or its like) stands right beside the trigger on the place's side."""
        refs = self.compiled.context.references
        beside: list[Token] = []
        if hit.place in ("after", "any"):
            beside += tokens[last + 1 : last + 3]
        if hit.place in ("before", "any"):
            beside += tokens[max(0, first - 2) : first]
        return any(t.text in refs for t in beside)

    def _first_place_before(
        self, tokens: list[Token], index: int, text: str
    ) -> tuple[Place, int, int] | None:
        """The first place the post names before token `index`: reports name their city first
        ("Houthis take al-Hazm, … toward Marib. … the city fell" is about al-Hazm)."""
        for i in range(index):
            found = self._place_at(_Walk(tokens, text, tokens[i].sentence, 1, 0, ()), i)
            if found is not None:
                return found
        return None

    def _across_apposition(self, walk: _Walk, i: int) -> int | None:
        """Walking back into ", an aside," ending at token i: the token before it, if a place ends there."""
        for j in range(i, i - _APPOSITION_MAX_WORDS, -1):
            if not walk.inside(j) or not walk.inside(j - 1):
                return None
            if walk.clause_mark_before(j):
                return j - 1 if self._place_at(walk, j - 1) is not None else None
        return None

    def _next_in_list(self, walk: _Walk, lo: int, hi: int) -> int | None:
        """Where the next place of a list would stand after the place at tokens lo..hi, if a list goes on."""
        k = hi + 1 if walk.step > 0 else lo - 1
        if not walk.inside(k):
            return None
        tokens = walk.tokens
        between = (
            walk.text[tokens[hi].end : tokens[k].start]
            if walk.step > 0
            else walk.text[tokens[k].end : tokens[lo].start]
        )
        if tokens[k].text in self.compiled.context.conjunctions:
            return k + walk.step if walk.inside(k + walk.step) else None
        return k if any(sep in between for sep in ",،(/") else None

    def _place_at(self, walk: _Walk, i: int) -> tuple[Place, int, int] | None:
        """The longest place name that starts (walking forward) or ends (walking back) at token i."""
        tokens, index = walk.tokens, self.compiled.places
        for n in range(min(index.max_words, len(tokens)), 0, -1):
            lo, hi = (i, i + n - 1) if walk.step > 0 else (i - n + 1, i)
            if not (walk.inside(lo) and walk.inside(hi)):
                continue
            words = [t.text for t in tokens[lo : hi + 1]]
            found = index.lookup(words)
            if found is None:
                continue
            place, declined = found
            lower = walk.text[tokens[lo].start].islower()
            if lower and (declined or (n == 1 and words[0] in index.needs_capital)):
                continue
            if self._not_the_place(tokens, lo, hi):
                continue
            return place, lo, hi
        return None

    def _not_the_place(self, tokens: list[Token], lo: int, hi: int) -> bool:
        """'near Kunduz', 'outskirts of the city of Kunduz', 'Kunduz province', 'ولایت بلخ'."""
        ctx = self.compiled.context
        after = tuple(t.text for t in tokens[hi + 1 : hi + 1 + ctx.longest])
        if any(after[: len(p)] == p for p in ctx.region_after):
            return True
        right_before = tuple(t.text for t in tokens[max(0, lo - ctx.longest) : lo])
        if any(right_before[len(right_before) - len(p) :] == p for p in ctx.region_before if len(p) <= lo):
            return True
        end = lo  # the near-phrase must end right before `end`, after skipping filler words
        for _ in range(4):
            before = tuple(t.text for t in tokens[max(0, end - ctx.longest) : end])
            if any(before[len(before) - len(p) :] == p for p in ctx.near if len(p) <= len(before)):
                return True
            if end == 0 or tokens[end - 1].text not in ctx.filler:
                return False
            end -= 1
        return False


@dataclass(frozen=True, slots=True)
class _Walk:
    tokens: list[Token]
    text: str
    sentence: int
    step: int  # 1 walks forward, -1 back
    max_gap: int
    blockers: tuple[str, ...]

    def inside(self, i: int) -> bool:
        return 0 <= i < len(self.tokens) and self.tokens[i].sentence == self.sentence

    def clause_mark_before(self, i: int) -> bool:
        """Whether a clause mark (comma, dash, colon) stands between token i - 1 and token i."""
        if i <= 0:
            return False
        return any(ch in CLAUSE_MARKS for ch in self.text[self.tokens[i - 1].end : self.tokens[i].start])


def _reads(accounts: frozenset[str] | None, handle: str | None) -> bool:
    return accounts is None or (handle is not None and handle in accounts)


def _bounded(folded: str, start: int, end: int, prefix: bool) -> bool:
    """Whether folded[start:end] stands as whole words (an Arabic-script proclitic may precede it)."""
    if start > 0 and is_word_char(folded[start - 1]):
        before = folded[start - 1]
        if before not in _ARABIC_PROCLITICS or (start > 1 and is_word_char(folded[start - 2])):
            return False
    return prefix or end >= len(folded) or not is_word_char(folded[end])


def _blocked(tokens: list[Token], i: int, step: int, blockers: tuple[str, ...]) -> bool:
    """Whether a blocker phrase begins at token i (walking forward) or ends there (walking back)."""
    if step > 0:
        ahead = " " + " ".join(t.text for t in tokens[i : i + 4]) + " "
        return any(ahead.startswith(b) for b in blockers)
    behind = " " + " ".join(t.text for t in tokens[max(0, i - 3) : i + 1]) + " "
    return any(behind.endswith(b) for b in blockers)


def _confidence(gap: int, hit: _Hit, lang: str | None) -> float:
    """Closer trigger and place, an explicit {place} side and a matching language make it surer."""
    score = 0.6
    score += 0.2 if gap == 0 else 0.1 if gap <= 2 else 0.0
    score += 0.1 if hit.place != "any" else 0.0
    score += 0.05 if lang == hit.lang else 0.0
    return min(score, 0.99)
