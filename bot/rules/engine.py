"""Where a post is matched: `Detector.detect(post) -> list[Match]`. Pure and synchronous, no I/O.

1. One Aho-Corasick pass over the folded text finds every trigger, cancel cue and actor name
   (bot/rules/scan.py); most posts stop here.
2. For each trigger: a cue in the same sentence, or a year before the post's, cancels it.
3. Otherwise the place must stand on the trigger's side ({place} in the phrase), in the same sentence,
   within `max_gap_words`, with no gap blocker ("near", "outside") in between (bot/rules/places.py).
4. The match names who took the place when the text does (bot/rules/actors.py) and its rule's kind;
   a place reported fallen is not also reported contested by the same post.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from bot.posts import Post
from bot.rules.actors import ActorMention, actor_for
from bot.rules.aliases import load_aliases
from bot.rules.compiled import LEAVING, SHARED, CompiledRules
from bot.rules.gazetteer import Place
from bot.rules.language import detect_language
from bot.rules.match import Match
from bot.rules.places import APPOSITION_MAX_WORDS, PASHTO_TO, PlaceFinder, PlaceSpan, PostWords, Walk
from bot.rules.reader import Reader, candidate_features, load_reader
from bot.rules.scan import (
    DENIAL,
    QUOTE_MARKS,
    CueHit,
    Hit,
    Scan,
    cancel_reason,
    owns,
    partial_reason,
    reads_author,
    scan,
)
from bot.rules.text import (
    PASHTO_LETTERS,
    RUSSIAN_LETTERS,
    TOKEN,
    UKRAINIAN_LETTERS,
    Token,
    blank_handles_and_links,
    fold,
    nfc,
    sentence_ends,
    tokenize,
)
from bot.rules.trace import CueNote, Trace, TriggerNote

# How far from the trigger and its place a partial-control cue still speaks of them, in words.
PARTIAL_REACH = 3
# Before a place a withdrawal names, these make it where the holders went ("retreated to Hayratan").
DESTINATION_WORDS = frozenset({"to", "toward", "towards", "به", "الی", "الى", "к", "до", "vers"})
DESTINATION_AFTER = frozenset({PASHTO_TO})  # Pashto's postposition: "پلخمري ته", to Pul-e Khumri
# "in the city": the city is where something happened, not what was taken.
LOCATIVE = frozenset({"in", "inside", "dans", "в", "у", "во", "في", "داخل", "در", "په"})
# "the city", standing this many words from the trigger ("the city has now been fully liberated").
REFERENCE_REACH = 4
# Verb-final languages put time, manner and the agent between the city and its verb ("X, after two
# days of street fighting, by the Taliban fell"): the walk back from their verbs may go twice as far.
VERB_FINAL = frozenset({"fa", "ps"})
# The second reader learnt from posts of 20 to 50 words; on a short post it has too little to go on
# (it scores "X سقوط کرد" or "Rebels captured X." low, "forces withdrew to Kabul" high), and a post
# that short says what it means in the phrases. So it neither vetoes nor adds below VETO_MIN_WORDS
# words, and vetoes only on a very low score below FULL_VETO_WORDS (see _veto_line).
VETO_MIN_WORDS = 12
TRUSTED = 2  # trust tier (rules.yaml account_groups) from which the reader never drops a match
FULL_VETO_WORDS = 16
# Where the side that leaves is named right before its withdrawal ("the RSF pulled out of X"); Arabic
# names it after ("بعد انسحاب الجيش"), Persian and Pashto far before the final verb.
SUBJECT_FIRST = frozenset({"en", "fr", "ru", "uk"})


@dataclass
class _Found:
    place: Place
    confidence: float
    evidence: list[str]
    actor: str | None = None
    triggers: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Reading:
    """One post as the engine reads it: its text, what the scan found, sentences and words."""

    text: str
    folded: str
    found: Scan
    ends: list[int]
    words: PostWords
    year: int


class _Folded:
    """A post's text in NFC and folded (lower case, one spelling per letter, handles and links blanked)."""

    __slots__ = ("folded", "text")

    def __init__(self, raw: str) -> None:
        self.text = nfc(raw)
        self.folded = blank_handles_and_links(self.text, fold(self.text))


@dataclass(frozen=True)
class Denial:
    """A rule's place that a post denies was taken."""

    rule: str
    place: Place


class Detector:
    def __init__(
        self,
        compiled: CompiledRules,
        now: datetime | None = None,
        reader: Reader | None = None,
        without_reader: bool = False,
    ) -> None:
        self.compiled = compiled
        self._now = now
        self._finder = PlaceFinder(
            compiled.places,
            compiled.context,
            load_aliases().beside_region,
            frozenset(compiled.source.gazetteer.countries),
        )
        # The rules that let the second reader veto and add matches (rules.yaml `reader:`), by index.
        self._read_again = {n: r.rule.reader for n, r in enumerate(compiled.rules) if r.rule.reader}
        if without_reader or not self._read_again:
            self.reader = None
        else:
            self.reader = reader or load_reader()
        self._rule_index = {r.rule.id: n for n, r in enumerate(compiled.rules)}
        self._focus = frozenset(compiled.source.gazetteer.countries)

    def detect(self, post: Post, trace: Trace | None = None) -> list[Match]:
        folded = _Folded(post.text)
        reading = self._read(post, trace, folded)
        matches = self._match(post, reading) if reading is not None else []
        if self.reader is None:
            return matches
        return self._second_reading(post, folded, reading, matches, trace)

    def places_named(self, post: Post) -> tuple[list[str], list[tuple[Place, list[str]]]]:
        """The post's words as the reader sees them, and every place it names in order, each with
        the reader's features of it (for training the reader: bench/train_reader.py)."""
        reading = self._read(post, None, _Folded(post.text), always=True)
        assert reading is not None  # always=True reads every post
        words = [t.text for t in reading.words.tokens]
        named = self._named(reading.words)
        features = [self.candidate_features(words, reading.words, named, k) for k in range(len(named))]
        return words, [(place, f) for (place, _, _), f in zip(named, features, strict=True)]

    def _named(self, words: PostWords) -> list[tuple[Place, int, int]]:
        named: list[tuple[Place, int, int]] = []
        i = -1
        while (found := self._finder.first_place_after(words, i)) is not None:
            named.append(found)
            i = found[2]
        return named

    def candidate_features(
        self, words: list[str], post_words: PostWords, named: list[tuple[Place, int, int]], rank: int
    ) -> list[str]:
        """The reader's features of the `rank`th place the post names (see reader.candidate_features)."""
        place, lo, hi = named[rank]
        distinct = len({(p.geonameid, p.name) for p, _, _ in named})
        focus, country_named = place.country in self._focus, place.country in post_words.countries
        return candidate_features(words, lo, hi, rank, distinct, focus, country_named)

    def _second_reading(
        self, post: Post, folded: _Folded, reading: _Reading | None, matches: list[Match], trace: Trace | None
    ) -> list[Match]:
        """The reader's word on the rules' matches (a veto under `veto_below`), and its own match for a
        rule the phrases did not match when it scores the post at or above `report_above`."""
        assert self.reader is not None
        ids = self._rule_index
        checked = [m for m in matches if ids[m.rule] in self._read_again]
        words = [t.text for t in reading.words.tokens] if reading else TOKEN.findall(folded.folded)
        gate = self.reader.gate
        if not checked and gate and gate.isdisjoint(words):
            return matches  # no word the reader counts as a sign of a report: most posts stop here
        likelihood = self.reader.likelihood(words)
        if trace is not None:
            trace.reader, trace.reader_words = likelihood, len(words)
        # An established reporter's, an outlet's or an official's post that the phrases matched is kept
        # whatever the reader thinks: it learnt from unknown writers, and a desk would rather see a
        # trusted source's report than lose it ("The fall of Mazar-e-Sharif leaves Kabul and
        # Jalalabad as the only major cities still held by the government" scores 0.08).
        author = (post.author or "").lstrip("@").lower()
        trusted = self.compiled.trust.get(author, 0) >= TRUSTED
        kept: list[Match] = []
        for m in matches:
            use = self._read_again.get(ids[m.rule])
            if use is not None and likelihood < _veto_line(use.veto_below, len(words)) and not trusted:
                if trace is not None:
                    trace.vetoed.append((m.rule, m.location))
                continue
            kept.append(m)
        matched = {ids[m.rule] for m in kept}
        wanted = (
            [n for n, use in self._read_again.items() if n not in matched and likelihood >= use.report_above]
            if len(words) >= VETO_MIN_WORDS
            else []
        )
        if not wanted:
            return kept
        reading = reading or self._read(post, trace, folded, always=True)
        assert reading is not None
        added = self._reader_matches(post, reading, words, wanted, likelihood, trace)
        fallen = {m.geonameid for m in added if m.kind == "fallen"}
        # as with the phrases' matches: a place reported fallen is not also reported contested
        return [m for m in kept if m.kind == "fallen" or m.geonameid not in fallen] + added

    def _reader_matches(
        self,
        post: Post,
        r: _Reading,
        words: list[str],
        wanted: list[int],
        likelihood: float,
        trace: Trace | None,
    ) -> list[Match]:
        assert self.reader is not None
        named = self._named(r.words)
        if not named:
            return []
        tokens = r.words.tokens
        # a place the holders left for ("fled to X", "X ته تښتېدلی") is not the one taken; "entered X"
        # ("X ته ننوتل", "увійшли до X") may well be
        leaving = [bisect_right(r.ends, c.start) for c in r.found.cues if c.cue.family == LEAVING]
        went_to = {
            rank
            for rank, (_, lo, hi) in enumerate(named)
            if (self._destination_before(tokens, lo) or self._destination_after(tokens, hi))
            and bisect_right(r.ends, tokens[lo].start) in leaving
        }
        scored = [
            (self.reader.place_score(self.candidate_features(words, r.words, named, rank)), rank)
            for rank in range(len(named))
        ]
        score, best = max((s for s in scored if s[1] not in went_to), default=max(scored))
        place, lo, hi = named[best]
        start, end = tokens[lo].start, tokens[hi].end
        if trace is not None:
            trace.reader_place = (start, end, place.name, score)
        why = (
            "its place is where someone went ('fled to X', 'X ته'), not what was taken"
            if best in went_to
            else f"no place it rates {READER_PLACE_FLOOR} or more as the one reported"
            if score < READER_PLACE_FLOOR
            else ""
        )
        if why:
            if trace is not None:
                trace.reader_held.extend((self.compiled.rules[n].rule.id, why) for n in wanted)
            return []
        lang = detect_language(r.text, post.lang)
        actor = actor_for(r.found.actors, (start, end), False, r.ends, r.folded)
        handle = post.author.lower() if post.author else None
        out = []
        for n in wanted:
            rule = self.compiled.rules[n]
            if place.geonameid in rule.exclude_places or not reads_author(rule.accounts, handle):
                continue
            held = _cue_in_sentence(r, n, start)
            if held:
                if trace is not None:
                    trace.reader_held.append((rule.rule.id, held))
                continue
            out.append(
                Match(
                    post_id=post.id,
                    rule=rule.rule.id,
                    location=place.name,
                    geonameid=place.geonameid,
                    country=place.country,
                    lang=lang,
                    confidence=round(min(0.99, likelihood), 2),
                    evidence=[f"reader {likelihood:.2f}", r.text[start:end]],
                    author=post.author,
                    actor=actor,
                    kind=rule.rule.kind,
                )
            )
        return out

    def examine(self, post: Post) -> tuple[list[Match], list[Denial]]:
        """The post's matches and, when it has none, the places it says were NOT taken ("X has not
        fallen"), for a later denial to contest an alert already sent. One reading of the post."""
        folded = _Folded(post.text)
        reading = self._read(post, None, folded)
        matches = self._match(post, reading) if reading is not None else []
        if self.reader is not None:
            matches = self._second_reading(post, folded, reading, matches, None)
        return matches, [] if matches or reading is None else self._denied(reading)

    def _read(self, post: Post, trace: Trace | None, f: _Folded, always: bool = False) -> _Reading | None:
        """Scan, split and tokenise a post; None when it holds no trigger (most posts stop at the scan:
        no sentence splitting, no tokens), unless `always`."""
        text, folded = f.text, f.folded
        quoted = "  " in folded and QUOTE_MARKS.search(text) is not None
        found = scan(
            self.compiled, folded, post.author, everything=trace is not None or always, quoted=quoted
        )
        if not found.triggers and trace is None and not always:
            return None
        if found.cues:
            foreign = _foreign_languages(text)
            found.cues = [c for c in found.cues if c.cue.lang not in foreign]
        if found.actors:  # a group's name says nothing ("الحركة الوطنية لتحرير أزواد": no intention)
            found.cues = [c for c in found.cues if not _inside_actor(found.actors, c.start, c.end)]
            found.triggers = [h for h in found.triggers if not _inside_actor(found.actors, h.start, h.end)]
        ends = sentence_ends(folded)
        if trace is not None and not trace.text:
            self._note_scan(trace, found, text, ends)
        if not found.triggers and not always:
            return None
        tokens = tokenize(folded)
        actor_tokens = _actor_tokens(found.actors, tokens)
        words = PostWords(tokens, text, self._countries(tokens, actor_tokens), actor_tokens, trace)
        year = (post.created_at or self._now or datetime.now(UTC)).year
        return _Reading(text, folded, found, ends, words, year)

    def _match(self, post: Post, r: _Reading) -> list[Match]:
        trace = r.words.trace
        results: dict[tuple[int, int, str], _Found] = {}
        lang: str | None = None
        leaving = tuple(h.start for h in r.found.triggers if h.withdrawal and h.lang in SUBJECT_FIRST)
        # "Окупанти втекли": the subject right before a leaving word left, as before a withdrawal
        # (not before a new flag: "Iraqi army raises the flag" names the taker)
        leaving += tuple(
            c.start
            for c in r.found.cues
            if c.cue.family == LEAVING
            and c.cue.lang in SUBJECT_FIRST
            and not _FLAG.intersection(c.cue.phrase.split())
        )
        readings: list[list[PlaceSpan]] = []
        left = {
            c.cue.rule for c in r.found.cues if c.cue.family == LEAVING and not _civilians_left(r.folded, c)
        }
        named: list[PlaceSpan] = []  # places earlier triggers speak of: what 'the city' refers back to
        for n, hit in enumerate(r.found.triggers):
            if trace is not None:
                trace.current = n
            if hit.entering and not left & {SHARED, hit.rule}:
                readings.append([])  # "forces entered X" alone: fighting inside, not yet a fall
                # ... but "entered X and took the city under control" speaks of X
                named += self._places_near(hit, r.words, bisect_right(r.ends, hit.start), named, quiet=True)
                if trace is not None:
                    trace.cancelled[n] = "an entry, and the post does not say the holders left"
                continue
            readings.append(self._spans_of(hit, r.found, r.words, r.ends, r.year, named))
            named += readings[-1]
        nearest = _nearest_reading(r.found.triggers, readings)
        for n, hit in enumerate(r.found.triggers):
            for span in readings[n]:
                if span.gap > nearest[(hit.start, hit.end, hit.rule)]:
                    continue  # "Addis-Abeba annonce avoir repris Dessie": the verb's object, not its subject
                lang = lang or detect_language(r.text, post.lang) or hit.lang
                # "drove IS out of X": the object between the verb and its preposition was driven out
                mentions = (
                    [m for m in r.found.actors if not hit.start <= m.start < hit.end]
                    if "…" in hit.phrase
                    else r.found.actors
                )
                actor = actor_for(mentions, (hit.start, hit.end), hit.withdrawal, r.ends, r.folded, leaving)
                self._record(results, hit, span, r.words, lang, actor)
        return self._matches(post, results, lang)

    def _denied(self, r: _Reading) -> list[Denial]:
        """The places of the triggers a denial cue cancelled, walked to as for a report."""
        denied: dict[tuple[str, int | None, str], Denial] = {}
        for hit in r.found.triggers:
            sentence = bisect_right(r.ends, hit.start)
            cancel = cancel_reason(self.compiled, hit, sentence, r.found.cues, r.ends, r.text, r.year)
            if cancel is None or cancel.family != DENIAL:
                continue
            for span in self._places_near(hit, r.words, sentence):
                rule = self.compiled.rules[hit.rule].rule.id
                denied[(rule, span.place.geonameid, span.place.name)] = Denial(rule, span.place)
        return list(denied.values())

    def _spans_of(
        self, hit: Hit, found: Scan, words: PostWords, ends: list[int], year: int, named: list[PlaceSpan]
    ) -> list[PlaceSpan]:
        """The places this trigger reports, unless a cue of its sentence (or the place's) cancels it."""
        trace, text = words.trace, words.text
        sentence = bisect_right(ends, hit.start)
        cancel = cancel_reason(self.compiled, hit, sentence, found.cues, ends, text, year)
        why = cancel.why if cancel else ""
        if not why and hit.closes and not _ends_clause(text, hit.end):
            why = "the phrase must end its clause ('X наш.', not 'наш репортаж')"
        if not why and hit.refers and _since_before(words.tokens, hit.start):
            why = "'after' or 'since' its taking: background ('بعد سقوطها', 'since its capture')"
        spans: list[PlaceSpan] = []
        for span in [] if why else self._places_near(hit, words, sentence, named):
            named_in = words.tokens[span.first].sentence
            if named_in != sentence:
                there = cancel_reason(self.compiled, hit, named_in, found.cues, ends, text, year)
                if there:  # "On this day in 2014, ISIS swept into Mosul. … how the city fell"
                    why = there.why + " (where the place the city refers to is named)"
                    continue
            tokens = words.tokens
            place = (tokens[span.first].start, tokens[span.last].end)
            partial = partial_reason(
                hit,
                found.cues,
                text,
                place,
                self._around(tokens, hit, span),
                self.compiled.context.centres,
                self._asides(words, hit, span),
                self.compiled.context.districts,
                self.compiled.context.conjunctions,
            )
            if partial:
                why = partial
                continue
            if span.gap and any(owns(hit, cue) for cue in found.cues):
                why = "a verb that also denies ('відбили атаку'): its place must follow it right away"
                continue
            if hit.withdrawal and self._destination_before(tokens, span.first):
                why = "the place the holders withdrew to, not from"  # "retreated to Hayratan"
                continue
            spans.append(span)
        if why and not spans and trace is not None:
            trace.cancelled[trace.current] = why
        return spans

    def _record(
        self,
        results: dict[tuple[int, int, str], _Found],
        hit: Hit,
        span: PlaceSpan,
        words: PostWords,
        lang: str | None,
        actor: str | None,
    ) -> None:
        place, tokens = span.place, words.tokens
        if place.geonameid in self.compiled.rules[hit.rule].exclude_places:
            return
        confidence = _confidence(span.gap, hit, lang)
        evidence = [
            words.text[hit.start : hit.end],
            words.text[tokens[span.first].start : tokens[span.last].end],
        ]
        key = (hit.rule, place.geonameid or 0, place.name)
        old = results.get(key)
        if old is None:
            results[key] = _Found(place, confidence, evidence, actor)
            return
        old.confidence = min(0.99, max(old.confidence, confidence) + 0.1)
        old.evidence += [e for e in evidence if e not in old.evidence]
        old.actor = old.actor or actor

    def _matches(
        self, post: Post, results: dict[tuple[int, int, str], _Found], lang: str | None
    ) -> list[Match]:
        rules = self.compiled.rules
        fallen = {gid for (r, gid, _) in results if rules[r].rule.kind == "fallen"}
        return [
            Match(
                post_id=post.id,
                rule=rules[rule_idx].rule.id,
                location=f.place.name,
                geonameid=f.place.geonameid,
                country=f.place.country,
                lang=lang,
                confidence=round(f.confidence, 2),
                evidence=f.evidence,
                author=post.author,
                actor=f.actor,
                kind=rules[rule_idx].rule.kind,
            )
            for (rule_idx, gid, _), f in results.items()
            if f.confidence >= rules[rule_idx].rule.min_confidence
            and (rules[rule_idx].rule.kind == "fallen" or gid not in fallen)
        ]

    def _places_near(
        self,
        hit: Hit,
        words: PostWords,
        sentence: int,
        named: list[PlaceSpan] | None = None,
        quiet: bool = False,
    ) -> list[PlaceSpan]:
        """The places on the trigger's side; else, when it refers back ("the city", "تحريرها"), the
        place an earlier trigger of the post spoke of, or the first place the post named (before the
        trigger, else after it)."""
        trace = words.trace
        if quiet:
            words.trace = None
        try:
            return self._near(hit, words, sentence, named or [])
        finally:
            words.trace = trace

    def _near(self, hit: Hit, words: PostWords, sentence: int, named: list[PlaceSpan]) -> list[PlaceSpan]:
        tokens = words.tokens
        first = next((i for i, t in enumerate(tokens) if t.end > hit.start), len(tokens))
        last = max(
            first, next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i].start < hit.end), first)
        )
        rule = self.compiled.rules[hit.rule]
        gap = rule.rule.max_gap_words
        places: list[PlaceSpan] = []
        if hit.place in ("after", "any"):
            places += self._finder.walk(Walk(words, sentence, 1, gap, rule.blockers), last + 1)
        if hit.place in ("before", "any"):
            back = gap * 2 if hit.lang in VERB_FINAL else gap
            places += self._finder.walk(Walk(words, sentence, -1, back, rule.blockers), first - 1)
        if not places and (
            hit.refers or self._refers_back(hit, tokens, first, last) or self._aside_refers(hit, words, first)
        ):
            before = [(s.place, s.first, s.last) for s in named if s.last < first]
            earlier = before[0] if before else self._finder.first_place_before(words, first)
            if earlier is None and not _name_beside(
                hit, words, first, last, self.compiled.context.references
            ):
                earlier = self._finder.first_place_after(words, last)
            if earlier is not None:
                place, lo, hi = earlier
                if words.trace is not None:
                    words.trace.candidate(
                        tokens[lo].start, tokens[hi].end, place.name, True, "'the city' refers back to it"
                    )
                places.append(PlaceSpan(place, lo, hi, gap))
        return places

    def _around(self, tokens: list[Token], hit: Hit, span: PlaceSpan) -> tuple[int, int]:
        """Offsets from a few words (filler aside) before the first of trigger and place to a few words
        after the last: where a partial-control cue speaks of this place ("took half of X", "X airport")."""
        filler = self.compiled.context.filler
        starts = [t.start for t in tokens]
        lo = min(span.first, bisect_right(starts, hit.start) - 1)
        hi = max(span.last, bisect_right(starts, hit.end - 1) - 1)
        for step in (-1, 1):
            counted, i = 0, lo if step < 0 else hi
            while 0 <= i + step < len(tokens) and counted < PARTIAL_REACH:
                i += step
                counted += tokens[i].text not in filler
            lo, hi = (i, hi) if step < 0 else (lo, i)
        return tokens[max(lo, 0)].start, tokens[hi].end

    def _asides(self, words: PostWords, hit: Hit, span: PlaceSpan) -> tuple[tuple[int, int], ...]:
        """The aside between a place and a trigger after it, which the walk stepped over: it describes
        the place ("الفاشر، آخرین پایگاه ارتش سودان در دارفور، به کنترل آنها درآمده است")."""
        tokens = words.tokens
        if span.last + 1 >= len(tokens) or tokens[span.last].end > hit.start:
            return ()
        if not words.clause_mark_before(span.last + 1):
            return ()
        j = span.last + 1
        while j < len(tokens) and tokens[j].start < hit.start:
            j += 1
        if j < len(tokens) and words.clause_mark_before(j) and j - span.last <= APPOSITION_MAX_WORDS:
            return ((tokens[span.last].end, tokens[j - 1].end),)
        return ()

    def _destination_before(self, tokens: list[Token], first: int) -> bool:
        """Whether "to" (filler aside: "به شهر هرات", "to the city of") stands right before token
        `first`: the place the holders withdrew to, not from."""
        filler, i = self.compiled.context.filler, first - 1
        while i >= 0 and tokens[i].text in filler and tokens[i].text not in DESTINATION_WORDS:
            i -= 1
        return i >= 0 and tokens[i].text in DESTINATION_WORDS

    def _destination_after(self, tokens: list[Token], last: int) -> bool:
        """Whether Pashto's "ته" (to) follows the name ending at token `last`, filler aside ("پلخمري ته
        تښتېدلی", fled to Pul-e Khumri)."""
        filler, i = self.compiled.context.filler, last + 1
        while i < len(tokens) and tokens[i].text in filler:
            i += 1
        return i < len(tokens) and tokens[i].text in DESTINATION_AFTER

    def _aside_refers(self, hit: Hit, words: PostWords, first: int) -> bool:
        """Whether 'the city' stands before an aside that ends right before the trigger ("Місто, яке ми
        тримали понад два роки, втрачено"; "the town, held for two years, is lost")."""
        if hit.place == "after" or not words.clause_mark_before(first):
            return False
        tokens = words.tokens
        for j in range(first - 1, max(0, first - APPOSITION_MAX_WORDS), -1):
            if tokens[j].sentence != tokens[first].sentence:
                return False
            if words.clause_mark_before(j):
                return tokens[j - 1].text in self.compiled.context.references
        return False

    def _refers_back(self, hit: Hit, tokens: list[Token], first: int, last: int) -> bool:
        """Whether 'the city' (or its like) stands right beside the trigger on the place's side, as its
        object: not after a word of place ("caught the commander in the city", "په ښار کې"), not before a
        centre word ("the city centre"), and with no gap blocker between ("the villages around the city
        were taken")."""
        context = self.compiled.context
        sides: list[range] = []
        if hit.place in ("after", "any"):
            sides.append(range(last + 1, min(len(tokens), last + 1 + REFERENCE_REACH)))
        if hit.place in ("before", "any"):
            sides.append(range(first - 1, max(-1, first - 1 - REFERENCE_REACH), -1))
        for side in sides:
            for i in side:
                if tokens[i].text in context.references:
                    if self._finder.near_before(tokens, i):
                        break  # "چند روستای اطراف شهر", "the villages around the city"
                    if i + 1 < len(tokens) and tokens[i + 1].text in context.centres:
                        break  # "the city centre": a part of it
                    # the word before it, unless that word is the trigger's own ("вошли в город")
                    if i - 1 == last or i == 0 or tokens[i - 1].text not in LOCATIVE:
                        return True
                    break
                if (tokens[i].text,) in context.near:
                    break
        return False

    def _countries(self, tokens: list[Token], actor_tokens: frozenset[int]) -> frozenset[str]:
        """The countries the post names ('Pokrovsk, Ukraine'), to settle a name several places share.
        A country named as an actor ('Russia says it has taken Artemovsk') is not a location."""
        names = self.compiled.places.countries
        found = {names[t.text] for i, t in enumerate(tokens) if t.text in names and i not in actor_tokens}
        pairs = (f"{a.text} {b.text}" for a, b in pairwise(tokens))
        found.update(names[p] for p in pairs if p in names)
        return frozenset(found)

    def _note_scan(self, trace: Trace, found: Scan, text: str, ends: list[int]) -> None:
        rules = self.compiled.rules
        trace.text, trace.sentence_ends = text, ends
        for hit in found.triggers:
            trace.triggers.append(
                TriggerNote(
                    hit.start,
                    hit.end,
                    rules[hit.rule].rule.id,
                    hit.lang,
                    hit.phrase,
                    hit.place,
                    hit.withdrawal,
                )
            )
        for cue in found.cues:
            rule = rules[cue.cue.rule].rule.id if cue.cue.rule >= 0 else None
            trace.cues.append(CueNote(cue.start, cue.end, cue.cue.family, cue.cue.phrase, rule))
        trace.actors = [(m.start, m.end, m.actor) for m in found.actors]


# The reader adds a report only at a place it rates at least this likely to be the one reported: under
# it, every place the post names reads as a side place ("د بغلان نهرین ولسوالۍ ونیوله": Baghlan, 0.01).
READER_PLACE_FLOOR = 0.05
_HOLDING = frozenset({"hedge"})  # past and denial words cost the reader more reports than they stop


def _cue_in_sentence(r: _Reading, rule: int, start: int) -> str:
    """A hedge of the rule (an intention, a threat, a plan) in the sentence of the place at offset
    `start`, described, or "": the reader weighs words, and "offensive to retake X", "aims to take X"
    read like reports to it. Cross-validated over blind7 to blind12 (bench/README.md), holding it back
    on past and denial cues as well lost three reports for each false alarm stopped."""
    sentence = bisect_right(r.ends, start)
    for cue in r.found.cues:
        if (
            cue.cue.family in _HOLDING
            and cue.cue.rule in (SHARED, rule)
            and bisect_right(r.ends, cue.start) == sentence
        ):
            return f"cue '{r.text[cue.start : cue.end]}' ({cue.cue.family}) in the place's sentence"
    return ""


def _veto_line(veto_below: float, words: int) -> float:
    """The score under which the reader drops a match of the phrases: the rule's `veto_below` for a
    post of FULL_VETO_WORDS words or more, a quarter of it down to VETO_MIN_WORDS, none below."""
    if words >= FULL_VETO_WORDS:
        return veto_below
    return veto_below / 4 if words >= VETO_MIN_WORDS else 0.0


def _nearest_reading(hits: list[Hit], readings: list[list[PlaceSpan]]) -> dict[tuple[int, int, int], int]:
    """For each trigger word, the smallest gap any of its readings found a place at. One verb read
    both ways ("captured {place}", "{place} captured") names the place nearest it: the other side
    holds its subject ("Chin resistance forces say they have captured Falam")."""
    nearest: dict[tuple[int, int, int], int] = {}
    for hit, spans in zip(hits, readings, strict=True):
        key = (hit.start, hit.end, hit.rule)
        best = min((s.gap for s in spans), default=1_000)
        nearest[key] = min(nearest.get(key, 1_000), best)
    return nearest


# Leaving cues that say a new flag is up: the side named before them took the place.
# People who flee a town that is not theirs to hold: "thousands of residents fled" says nothing of its
# defenders ("les forces sont entrées dans la ville … des milliers d'habitants ont fui").
_CIVILIANS = frozenset(
    fold(word)
    for word in "residents civilians families people inhabitants thousands "
    "habitants civils familles population "
    "жители мирные беженцы люди семьи мешканці жителі цивільні люди родини біженці "
    "سكان السكان المدنيون المدنيين الأهالي الاهالي الآلاف العائلات النازحين النازحون "
    "مردم غیرنظامیان ساکنان خانواده آوارگان خلک اوسېدونکي کورنۍ".split()
)


def _civilians_left(folded: str, cue: CueHit) -> bool:
    """Whether civilians are who a leaving cue says left: named in the three words before it or,
    as Arabic puts the verb first, the two after."""
    before = TOKEN.findall(folded[max(0, cue.start - 60) : cue.start])[-3:]
    after = TOKEN.findall(folded[cue.end : cue.end + 40])[:2]
    return not _CIVILIANS.isdisjoint(before + after)


_FLAG = frozenset({"flag", "flags", "флаг", "флаги", "прапор", "прапори", "drapeau"})
# Before a phrase that refers back ("بعد سقوطها", "منذ استعادتها"): the taking is background.
_SINCE = frozenset({"after", "since", "apres", "depuis", "بعد", "منذ", "после", "с", "після", "з", "از"})


def _since_before(tokens: list[Token], start: int) -> bool:
    i = bisect_right([t.start for t in tokens], start) - 2
    return i >= 0 and tokens[i].text in _SINCE


_CLAUSE_CLOSERS = frozenset(".!?;:,،؛—–()…#\n")


def _ends_clause(text: str, end: int) -> bool:
    """Whether text[end:] begins, after spaces and quote marks, with a clause mark or ends there."""
    rest = text[end:].lstrip(" \t\"'»”’")
    return not rest or rest[0] in _CLAUSE_CLOSERS


def _inside_actor(mentions: list[ActorMention], start: int, end: int) -> bool:
    return any(m.start <= start and end <= m.end for m in mentions)


def _actor_tokens(mentions: list[ActorMention], tokens: list[Token]) -> frozenset[int]:
    if not mentions:
        return frozenset()
    return frozenset(i for i, t in enumerate(tokens) if any(m.start <= t.start < m.end for m in mentions))


def _confidence(gap: int, hit: Hit, lang: str | None) -> float:
    """Closer trigger and place, an explicit {place} side and a matching language make it surer."""
    score = 0.6
    score += 0.2 if gap == 0 else 0.1 if gap <= 2 else 0.0
    score += 0.1 if hit.place != "any" else 0.0
    score += 0.05 if lang == hit.lang else 0.0
    return min(score, 0.99)


def _foreign_languages(text: str) -> frozenset[str]:
    """Languages whose cues this post's letters rule out. Scripts are shared, so cues match across
    languages; where one language's word is another's everyday word (Pashto's "که", if, is Persian's
    "that"), the letters tell: a post with no letter only Pashto writes is no Pashto, and a Cyrillic
    post with letters of only one of Russian and Ukrainian is not the other."""
    letters = set(text.lower())
    out: set[str] = set()
    if not letters & PASHTO_LETTERS:
        out.add("ps")
    ukrainian, russian = bool(letters & UKRAINIAN_LETTERS), bool(letters & RUSSIAN_LETTERS)
    if ukrainian and not russian:
        out.add("ru")
    if russian and not ukrainian:
        out.add("uk")
    return frozenset(out)


def _name_beside(hit: Hit, words: PostWords, first: int, last: int, references: frozenset[str]) -> bool:
    """Whether a name the index does not know stands right beside the trigger on its place's side: a
    capitalised word ("взяли Дараа — місто, де …"), or one or two words right after a town word, which
    is how Arabic script, without capitals, shows a name ("شهر فلان‌آباد را پس گرفت"). 'The city' then
    describes it; it must not send the reference forward to a town named later."""
    tokens, text = words.tokens, words.text
    beside = []
    if hit.place in ("after", "any") and last + 1 < len(tokens):
        beside.append(last + 1)
    if hit.place in ("before", "any") and first > 0:
        beside.append(first - 1)
        # one or two words (a name split at a ZWNJ: "فلان‌آباد") between the town word and the trigger
        for n in (1, 2):
            named = tokens[max(0, first - n) : first]
            if (
                first > n
                and tokens[first - n - 1].text in references
                and all(t.text not in references for t in named)
            ):
                return True
    return any(text[tokens[i].start].isupper() for i in beside)
