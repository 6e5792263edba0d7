"""Finding the place a trigger speaks of: walking the words on the trigger's side of one sentence.

The walk skips filler ("the city of") and actor names ("by the Taliban"), steps over an aside between
commas, dashes or brackets of any length ("X, the fourth largest city of the north, has fallen"),
reads "the capital of Helmand province" as Lashkar Gah, and stops at a gap blocker ("near"), at a
clause mark before the first place, or when the gap grows too long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.rules.compiled import PlaceContext
from bot.rules.gazetteer import Place, PlaceIndex, Spelling, cyrillic_stem
from bot.rules.text import AFTER_WORDS, CLAUSE_MARKS, Token, fold, fold_phrase
from bot.rules.trace import Trace

# The longest aside walked over back to a place: "X, the country's fourth largest city and ..., fell".
APPOSITION_MAX_WORDS = 30
_CLOSING_MARKS = frozenset(")]")
_HYPHENS = frozenset("-‐‑")
_CLAUSE_ENDS = frozenset(":;.!?؛؟")
# A lower-case Cyrillic word with an adjective's ending is the adjective, not the town named after it
# ("шахтарське містечко" is a mining town, not Шахтарське; "южной группировки" no Южное).
_CYRILLIC_ADJECTIVE = re.compile(
    fold("(?:ий|ый|ой|ая|яя|ое|ее|ые|ие|ій|ої|ою|ське|цьке|ські|цькі)$")
)  # folded: й is и
_ARTICLE_THEN_NAME = re.compile(r"[^\W\d_]{1,3}[-‐‑][^\W\d_]")
# English puts the province before its capital: "the Baghlan capital" is Pul-e Khumri.
_CAPITAL_AFTER = frozenset({"capital"})
_PASHTO_OBLIQUE = "ې"  # folded to ی like Persian's yeh, so only the post as written tells it
# A distance to a place that only says where another lies ("в 60 км от Багдада", "à 40 km de Gao"):
# its units, and the prepositions that stand before its number.
DISTANCE_UNITS = frozenset(
    "km kms kilometres kilometers kilometre kilometer miles mile км километрах километров километра "
    "кілометрах кілометрів кілометри كم كلم كيلومتر كيلومترا كيلومترات کیلومتری کیلومتر کیلومتره".split()
)
DISTANCE_BEFORE = frozenset("в за у a à at some about around در على حوالي около близько".split())
_UNKNOWN_BEFORE_ASIDE = -1  # an aside between clause marks, after a name the index does not know
# Between the two ends of a road or a front line: "Кабул — Кандагар", "Sanaa–Taiz", "Goma-Sake".
_ROUTE_DASHES = frozenset({"-", "–", "—", "‐", "‑"})
# The last letters of a declined Russian or Ukrainian name in the genitive (Багдада, Києва, Москвы).
_GENITIVE_ENDINGS = frozenset("аяиыії")
# A name that stands for a place, but not the one taken here ("governor of Sar-e Pul").
REJECTED = Place(None, "", "", 0)


@dataclass(frozen=True, slots=True)
class PlaceSpan:
    place: Place
    first: int  # token index
    last: int
    gap: int


@dataclass
class PostWords:
    """One post as the place finder reads it."""

    tokens: list[Token]
    text: str  # NFC original: capital letters and punctuation
    countries: frozenset[str]  # the countries the post names
    actor_tokens: frozenset[int]  # token indexes inside an actor's name
    trace: Trace | None = None

    def clause_mark_before(self, i: int) -> bool:
        """Whether a clause mark (comma, dash, colon, bracket) stands between token i - 1 and token i."""
        if i <= 0 or i >= len(self.tokens):
            return False
        between = self.text[self.tokens[i - 1].end : self.tokens[i].start]
        if between in (",", ".") and self.tokens[i - 1].text.isdigit() and self.tokens[i].text.isdigit():
            return False  # "300,000 people": one number
        if any(ch in CLAUSE_MARKS or ch in _CLOSING_MARKS for ch in between):
            return True
        return "-" in between and between != "-"  # a spaced dash, not the hyphen inside Mazar-i-Sharif


@dataclass(frozen=True, slots=True)
class Walk:
    words: PostWords
    sentence: int
    step: int  # 1 walks forward, -1 back
    max_gap: int
    blockers: tuple[str, ...]

    def inside(self, i: int) -> bool:
        tokens = self.words.tokens
        return 0 <= i < len(tokens) and tokens[i].sentence == self.sentence


class PlaceFinder:
    def __init__(
        self,
        index: PlaceIndex,
        context: PlaceContext,
        beside_region: dict[int, list[str]],
        focus: frozenset[str] = frozenset(),
    ) -> None:
        self.index = index
        self.context = context
        self.focus = focus
        where = {place.geonameid: n for n, place in enumerate(index.places)}
        # folded everyday-word name -> index of its place, read only beside a region or town word
        self._beside_region = {
            tuple(fold_phrase(name).split(" ")): where[gid]
            for gid, names in beside_region.items()
            if gid in where
            for name in names
        }
        ctx = context
        # "after the city fell" dates the report; "the villages around the city" lie near it
        self._near_the_city = frozenset(p for p in ctx.near if p[0] not in AFTER_WORDS)
        self._regions = frozenset(p[0] for p in ctx.region_before | ctx.region_after if len(p) == 1)
        self._region_words = self._regions | ctx.centres | ctx.references

    def walk(self, walk: Walk, i: int) -> list[PlaceSpan]:
        """Places met walking from token i until the gap, a blocker or the sentence ends.

        After a place the walk goes on only through a list ("Kunduz, Taloqan and Pul-e Khumri").
        """
        found: list[PlaceSpan] = []
        gap = 0
        words = walk.words
        referred = False  # "the capital" passed in this clause: it names the place, not what lies beyond
        while walk.inside(i) and gap <= walk.max_gap:
            if not found and self._clause_mark_stops(walk, i):
                across = self._across_clause_mark(walk, i, referred)
                if across is None:
                    break
                i = across
            span = self.place_at(walk, i)
            if span is not None and walk.step < 0 and _closed_locative(words.tokens, span[1], span[2]):
                _stop(words, walk.step, "the place where it happened ('په X کې'), not what was taken", i)
                break
            if span is not None:
                place, lo, hi = span
                found.append(PlaceSpan(place, lo, hi, gap))
                following = self._next_in_list(walk, lo, hi)
                if following is None or self.place_at(walk, following, quiet=True) is None:
                    break
                i = following
                continue
            blocker = _blocker_at(words.tokens, i, walk.step, walk.blockers)
            if blocker and walk.step < 0:
                beyond = self._beyond_reference(walk, i)
                if beyond is not None:
                    i = beyond
                    continue  # "Фаллуджа в 60 км от Багдада оказалась под контролем": on to Fallujah
            if blocker and not self._passable(words, i, walk.step, blocker):
                _stop(words, walk.step, f"gap blocker '{blocker}'", i)
                break
            referred = referred or words.tokens[i].text in self.context.references
            if words.tokens[i].text not in self.context.filler and i not in words.actor_tokens:
                gap += 1  # "the capital of the province", "by the Taliban": these do not widen the gap
            i += walk.step
        if not found and gap > walk.max_gap:
            _stop(words, walk.step, f"gap too long (more than {walk.max_gap} words)", i)
        return found

    def _across_clause_mark(self, walk: Walk, i: int, referred: bool) -> int | None:
        """Where the walk goes on at a clause mark before any place (token i, or past an aside
        walking back), or None when it stops there."""
        if walk.step > 0:
            _stop(walk.words, walk.step, "a clause mark before any place", i)
            return None  # "liberated, handing Moscow all of Luhansk": the place follows in the same clause
        if referred and not self._heading_before(walk, i):
            _stop(walk.words, walk.step, "'the city' opens the clause: it refers back", i)
            return None  # "Ghani left the country, the capital is under Taliban rule"
        found = self.place_at(walk, i, quiet=True)
        if found is not None and not referred and self._dateline(walk, found[1], i):
            # (with "the city" in the clause the heading names it: "از تکریت: شهر … پس گرفته شد")
            _stop(walk.words, walk.step, "a dateline ('گزارش‌ها از هرات:'): where the news comes from", i)
            return None
        if found is None:
            across = self._across_apposition(walk, i)
            if across == _UNKNOWN_BEFORE_ASIDE:
                _stop(
                    walk.words,
                    walk.step,
                    "an aside after a name not known: what it names is not the place",
                    i,
                )
                return None  # "کهسان، ولسوالی مرزی هرات که بندر اسلام‌قلعه در آن است، … خارج شد"
            return across
        if not walk.words.clause_mark_before(found[1]):
            # the name ends an aside that says more ("ساکه، دروازه غربی گوما، چیره شدند"): the place is
            # the name before the aside, when one stands there
            across = self._across_apposition(walk, found[1] - 1)
            if across not in (found[1] - 1, _UNKNOWN_BEFORE_ASIDE):
                return across
        return i

    def _beyond_reference(self, walk: Walk, i: int) -> int | None:
        """Walking back past a place onto "near" or "60 km from" ending at token i: that place only
        says where the place of the report lies, and the walk goes on before the nearness words, a
        distance's number and unit, and the preposition before them. None when token i ends no
        nearness words or no place name follows them."""
        tokens = walk.words.tokens
        before = self._before(tokens, i + 1)
        near = next((n for n, phrases in _by_length(self.context.near) if before[-n:] in phrases), 0)
        j = i - near
        if not near and not (walk.inside(i - 1) and tokens[i - 1].text in DISTANCE_UNITS):
            return None
        k = i + 1
        while k < len(tokens) and tokens[k].text in self.context.filler:
            k += 1
        names = [t.text for t in tokens[k : k + self.index.max_words]]
        if not any(self.index.candidates(names[:n]) for n in range(len(names), 0, -1)):
            return None
        if not near:
            j = i - 1
        while walk.inside(j) and (tokens[j].text in DISTANCE_UNITS or tokens[j].text.isdigit()):
            j -= 1
        if walk.inside(j) and tokens[j].text in DISTANCE_BEFORE and j < i - 1:
            j -= 1
        return j if walk.inside(j) else None

    def _passable(self, words: PostWords, i: int, step: int, blocker: str) -> bool:
        """Whether the walk goes on past a blocker at token i: a region word beside a centre word
        ("ولسوالۍ مرکز"), a district named after its town ("ولسوالۍ"), or a centre word after a region
        word ("the district centre of Nahrin"): each names the town. Pashto's "ته" (to) after a group or
        a pronoun names who a town was left to, not a place ("ترینکوټ یې هغوی ته پرېښود")."""
        tokens = words.tokens
        if self._beside_centre(tokens, i):
            return True
        if blocker == PASHTO_TO and step < 0 and i > 0:
            return i - 1 in words.actor_tokens or tokens[i - 1].text in _PRONOUNS
        if blocker in self.context.districts:  # only beside the name of its town: "نهرین ولسوالۍ"
            return self._name_ends_at(words, i + step, step)
        phrase = blocker.split()
        first = i if step > 0 else i - len(phrase) + 1
        return phrase[0] in self.context.centres and first > 0 and tokens[first - 1].text in self._regions

    def _name_ends_at(self, words: PostWords, i: int, step: int) -> bool:
        """Whether a name the index knows starts (walking forward) or ends (walking back) at token i."""
        tokens = words.tokens
        for n in range(min(self.index.max_words, len(tokens)), 0, -1):
            lo, hi = (i, i + n - 1) if step > 0 else (i - n + 1, i)
            if (
                lo >= 0
                and hi < len(tokens)
                and self._lookup(words, lo, hi, [t.text for t in tokens[lo : hi + 1]])
            ):
                return True
        return False

    def _beside_centre(self, tokens: list[Token], i: int) -> bool:
        """Whether a region word at token i stands beside a centre word ("ولسوالۍ مرکز"): the town."""
        ctx, centres = self.context, self.context.centres
        if not any(tokens[i].text in p for p in ctx.region_after | ctx.region_before):
            return False
        return any(0 <= j < len(tokens) and tokens[j].text in centres for j in (i - 1, i + 1))

    @staticmethod
    def _dateline(walk: Walk, lo: int, hi: int) -> bool:
        """Whether the name at tokens lo..hi follows "from" and ends a heading at a colon ("گزارش‌ها از
        هرات: …", "News from Herat: …")."""
        tokens, text = walk.words.tokens, walk.words.text
        if lo == 0 or tokens[lo - 1].text not in _SOURCE_WORDS or hi + 1 >= len(tokens):
            return False
        return ":" in text[tokens[hi].end : tokens[hi + 1].start]

    @staticmethod
    def _heading_before(walk: Walk, i: int) -> bool:
        """Whether a colon ends what stands before token i + 1 ("Après Kidal, Gao : la ville est tombée")."""
        tokens = walk.words.tokens
        return i >= 0 and i + 1 < len(tokens) and ":" in walk.words.text[tokens[i].end : tokens[i + 1].start]

    @staticmethod
    def _clause_mark_stops(walk: Walk, i: int) -> bool:
        return walk.words.clause_mark_before(i if walk.step > 0 else i + 1)

    def first_place_before(self, words: PostWords, index: int) -> tuple[Place, int, int] | None:
        """The first place the post names before token `index`: reports name their city first
        ("Houthis take al-Hazm, … toward Marib. … the city fell" is about al-Hazm)."""
        for i in range(index):
            found = self.place_at(Walk(words, words.tokens[i].sentence, 1, 0, ()), i, quiet=True)
            if found is not None:
                return found
        return None

    def first_place_after(self, words: PostWords, index: int) -> tuple[Place, int, int] | None:
        """The first place the post names after token `index`, for 'the city' when none came before:
        "Iraq's second-largest city is now under IS control. Soldiers in Mosul fled …"."""
        i = index + 1
        while i < len(words.tokens):
            found = self._span_at(Walk(words, words.tokens[i].sentence, 1, 0, ()), i, quiet=True)
            if found is not None and found[0] is not REJECTED:
                return found
            i = found[2] + 1 if found is not None else i + 1  # "южнее Великой Новосёлки": not Novosilky
        return None

    def _across_apposition(self, walk: Walk, i: int) -> int:
        """Walking back into ", an aside," ending at token i: the token before it, if a place ends there."""
        for j in range(i, i - APPOSITION_MAX_WORDS, -1):
            if not walk.inside(j) or not walk.inside(j - 1):
                return i
            if walk.words.clause_mark_before(j):
                tokens = walk.words.tokens
                if ":" in walk.words.text[tokens[j - 1].end : tokens[j].start]:
                    return i  # "Cabo Delgado: troops pulled out …, it has been lost": a heading, no aside
                k = j - 1
                while walk.inside(k - 1) and walk.words.tokens[k].text in self.context.filler:
                    k -= 1  # "Maimana city, which held out for weeks, fell"
                return k if self.place_at(walk, k, quiet=True) is not None else _UNKNOWN_BEFORE_ASIDE
        return i

    def _next_in_list(self, walk: Walk, lo: int, hi: int) -> int | None:
        """Where the next place of a list would stand after the place at tokens lo..hi, if a list goes on."""
        k = hi + 1 if walk.step > 0 else lo - 1
        if not walk.inside(k):
            return None
        tokens, text = walk.words.tokens, walk.words.text
        between = (
            text[tokens[hi].end : tokens[k].start]
            if walk.step > 0
            else text[tokens[k].end : tokens[lo].start]
        )
        if tokens[k].text in self.context.conjunctions:
            return k + walk.step if walk.inside(k + walk.step) else None
        return k if any(sep in between for sep in ",،(/") else None

    def place_at(self, walk: Walk, i: int, quiet: bool = False) -> tuple[Place, int, int] | None:
        """The longest place name that starts (walking forward) or ends (walking back) at token i."""
        found = self._span_at(walk, i, quiet)
        return None if found is None or found[0] is REJECTED else found

    def _span_at(self, walk: Walk, i: int, quiet: bool) -> tuple[Place, int, int] | None:
        """As place_at, but a name that is not the place taken comes back as REJECTED with its span."""
        tokens = walk.words.tokens
        for n in range(min(self.index.max_words, len(tokens)), 0, -1):
            lo, hi = (i, i + n - 1) if walk.step > 0 else (i - n + 1, i)
            if not (walk.inside(lo) and walk.inside(hi)):
                continue
            found = self._name_at(walk.words, lo, hi, quiet)
            if found is not None:
                return found, lo, hi  # REJECTED: "governor of Sar-e Pul" is not Pul either
        return None

    def _name_at(self, words: PostWords, lo: int, hi: int, quiet: bool) -> Place | None:
        """The place these words name, None when they name none, REJECTED when they name one that
        is not the place taken here (a shorter name inside them is not either)."""
        tokens = words.tokens
        names = [t.text for t in tokens[lo : hi + 1]]
        # (most windows name nothing: the context around them is read only for a name)
        capital = self.index.province_capital(names)
        after_capital = self._after_capital_of(words.text, tokens, lo) if capital is not None else ""
        if capital is not None:
            capital_after = hi + 1 < len(tokens) and tokens[hi + 1].text in _CAPITAL_AFTER  # "X capital"
            if after_capital or capital_after or self._region_centre(tokens, lo, hi):
                self._note(words, lo, hi, capital.name, quiet, True, "the capital of the province named")
                return capital
        found = self._lookup(words, lo, hi, names)
        if found is None:
            return None
        if capital is None:
            after_capital = self._after_capital_of(words.text, tokens, lo)
        governs = after_capital and after_capital not in self.context.centres
        if governs and not self._region_word_before(tokens, lo):
            # "столицу Тыграя", "the capital of Borno": a region we do not know, not a town of that name
            self._note(words, lo, hi, "", quiet, False, "after 'capital of': a region not known, not a town")
            return REJECTED
        if _inside_hyphenated(words, lo, hi):
            self._note(words, lo, hi, "", quiet, False, "part of a longer hyphenated name (Абу-Кемаль)")
            return None
        candidates, spelling = found
        place = self._preferred(candidates, words.countries)
        country = self.index.countries.get(" ".join(names)) or (capital.country if capital else None)
        if country is not None and place.country != country:  # "Силы Тыграя": Tigray, not Tigre
            self._note(
                words,
                lo,
                hi,
                place.name,
                quiet,
                False,
                "a country's or province's name ('на севере Мали'), not a town",
            )
            return None
        lower = words.text[tokens[lo].start].islower()
        everyday = " ".join(names) in self.index.needs_capital
        refs = self.context.references  # "the port city": a word describing the city, not Port City
        described = (lo < hi and names[-1] in refs) or (hi + 1 < len(tokens) and tokens[hi + 1].text in refs)
        adjective = lower and lo == hi and _CYRILLIC_ADJECTIVE.search(names[0]) is not None
        if lower and (spelling is not Spelling.WRITTEN or described or everyday or adjective):
            self._note(words, lo, hi, place.name, quiet, False, "an everyday word unless capitalised")
            return None
        if spelling is Spelling.SOUNDED and not _one_name(words, lo, hi):
            return None  # "d'Alep : la" sounds like some town; words that are not one name never count
        why = self._why_not(words, lo, hi, spelling)
        if why:
            self._note(words, lo, hi, place.name, quiet, False, why)
            return REJECTED
        self._note(words, lo, hi, place.name, quiet, True, "matched")
        return place

    def _lookup(
        self, words: PostWords, lo: int, hi: int, names: list[str]
    ) -> tuple[tuple[int, ...], Spelling] | None:
        """The places these words name as the index spells them, in Pashto's oblique case, or as an
        everyday word beside a region word."""
        tokens = words.tokens
        found = self.index.candidates(names)
        if found is not None and found[1] is Spelling.WRITTEN:
            found = self._declined_in_focus(names, found[0]) or found
        after_of = lo > 0 and tokens[lo - 1].text == "د"
        if found is None and words.text[tokens[hi].end - 1] == _PASHTO_OBLIQUE:
            found = self._pashto_direct(names, after_of)
        if found is None and after_of and names[-1].endswith("انو") and len(names[-1]) > 5:
            # a name that ends like a plural takes -و after "د" ("د بامیانو ښار": Bamyan)
            plain = self.index.candidates([*names[:-1], names[-1][:-1]])
            found = (plain[0], Spelling.DECLINED) if plain is not None else None
        return found if found is not None else self._named_beside_region(tokens, lo, hi, names)

    def _declined_in_focus(
        self, names: list[str], written: tuple[int, ...]
    ) -> tuple[tuple[int, ...], Spelling] | None:
        """For a Cyrillic name that spells only towns abroad as written (`written`), a focus-country town
        it names declined ("вернула себе Сингу": Singa in Sudan, not Shingū in Japan), or None."""
        if not self.focus or not "\u0400" <= names[0][:1] <= "\u04ff":
            return None
        if any(self.index.places[i].country in self.focus for i in written):
            return None
        declined = self.index.stems.get(" ".join(cyrillic_stem(w) for w in names))
        if declined is None or self.index.places[declined[0]].country not in self.focus:
            return None
        return declined, Spelling.DECLINED

    def _named_beside_region(
        self, tokens: list[Token], lo: int, hi: int, names: list[str]
    ) -> tuple[tuple[int, ...], Spelling] | None:
        """A town whose name is an everyday word, named beside a region, centre or town word
        (aliases.yaml `beside_region`: "د سنګین ولسوالۍ مرکز" is Sangin, "جنگ سنگین" heavy fighting)."""
        idx = self._beside_region.get(tuple(names))
        if idx is None:
            return None
        around = {tokens[j].text for j in (lo - 1, hi + 1) if 0 <= j < len(tokens)}
        return ((idx,), Spelling.WRITTEN) if around & self._region_words else None

    def _pashto_direct(self, names: list[str], after_of: bool) -> tuple[tuple[int, ...], Spelling] | None:
        """A name in Pashto's oblique case ("د رقې ښار"): ې stands for the ه or ا the index writes
        (رقه). The bare stem is not tried ("یوې", one, and "سوریې" would name towns), and a stem of two
        letters only right after "د" (of): "له مخې" (according to) is no Mocha."""
        stem = names[-1][:-1]
        if len(stem) < (2 if after_of else 3):
            return None
        for direct in (stem + "ه", stem + "ا"):
            if direct in self.index.countries:
                return None  # "د سوریې" is Syria, the country
            found = self.index.candidates([*names[:-1], direct])
            if found is not None:
                return found[0], Spelling.DECLINED
        return None

    def _preferred(self, candidates: tuple[int, ...], countries: frozenset[str]) -> Place:
        """Of places sharing a name: the one in a country the post names, else the index's order
        (focus countries, then population)."""
        places = self.index.places
        if countries and len(candidates) > 1:
            for idx in candidates:
                if places[idx].country in countries:
                    return places[idx]
        return places[candidates[0]]

    def _after_capital_of(self, text: str, tokens: list[Token], lo: int) -> str:
        """The last word of 'capital of' (maybe then 'the province of', 'ولایت') when it stands right
        before token lo in its clause ("Бадахшан остался без столицы: Файзабад …" is not), else ""."""
        ctx = self.context
        end = lo
        for _ in range(4):
            if end > 0 and not _CLAUSE_ENDS.isdisjoint(text[tokens[end - 1].end : tokens[end].start]):
                return ""
            before = self._before(tokens, end)
            if _ends_with_any(before, ctx.capital_of):
                return before[-1]
            if end == 0:
                return ""
            word = tokens[end - 1].text
            if word not in ctx.filler and not _ends_with_any(before, ctx.region_before):
                return ""
            end -= 1
        return ""

    def _before(self, tokens: list[Token], end: int) -> tuple[str, ...]:
        """The place words right before token `end`, an Arabic proclitic taken off ("بولاية")."""
        ctx = self.context
        return tuple(ctx.bare(t.text) for t in tokens[max(0, end - ctx.longest) : end])

    def _region_word_before(self, tokens: list[Token], lo: int) -> bool:
        return _ends_with_any(self._before(tokens, lo), self.context.region_before)

    def _region_centre(self, tokens: list[Token], lo: int, hi: int) -> bool:
        """Whether a region word and a centre word follow the name ("د بغلان ولایت مرکز")."""
        ctx = self.context
        after = tuple(ctx.bare(t.text) for t in tokens[hi + 1 : hi + 1 + ctx.longest])
        for p in ctx.region_after:
            centre = hi + 1 + len(p)
            if after[: len(p)] == p and centre < len(tokens) and tokens[centre].text in ctx.centres:
                return True
        return False

    def near_before(self, tokens: list[Token], lo: int) -> bool:
        """Whether a nearness word stands right before token lo, filler aside ("اطراف شهر"); a word of
        sequence ("after the city fell") is not one here."""
        ctx, end = self.context, lo
        for _ in range(4):
            if _ends_with_any(self._before(tokens, end), self._near_the_city):
                return True
            if end == 0 or tokens[end - 1].text not in ctx.filler:
                return False
            end -= 1
        return False

    def _speaking(self, text: str, tokens: list[Token], hi: int) -> bool:
        """Whether a speaking verb follows the name with nothing but a space between ("Kyiv says";
        not "Вугледар, сообщает группировка", where someone else reports)."""
        ctx = self.context
        if hi + 1 >= len(tokens) or text[tokens[hi].end : tokens[hi + 1].start].strip():
            return False
        spoken = tuple(t.text for t in tokens[hi + 1 : hi + 1 + ctx.speaking_longest])
        return any(spoken[: len(p)] == p for p in ctx.speaking_after)

    def _why_not(self, words: PostWords, lo: int, hi: int, spelling: Spelling) -> str:
        """Why a name that names a place stands for something else here, or ""."""
        why = self._not_the_place(words.text, words.tokens, lo, hi)
        if not why and self._route_end(words, lo, hi):
            why = "one end of a route ('the Kabul–Kandahar highway', 'طريق صنعاء–تعز'), not a place taken"
        if not why and self._holding(words.tokens, lo, hi, spelling):
            why = "a government holding a place ('Baghdad's control', 'aux mains de Kiev'), not a place taken"
        if not why and any(i in words.actor_tokens for i in range(lo, hi + 1)):
            why = "an actor's name ('Moscow claims', 'Syrian army'), not a place"
        if not why and (self._after_named_district(words, lo) or self._before_named_district(words, hi)):
            why = (
                "the province of a district named beside it ('ولسوالی خان‌آباد کندز', 'د بغلان بورکه ولسوالۍ')"
            )
        return why

    def _before_named_district(self, words: PostWords, hi: int) -> bool:
        """Whether one or two other words ("د" aside) and a district word follow the name ending at
        token hi ("د بغلان بورکه ولسوالۍ", "د کندز د دشت ارچي ولسوالۍ"): the name is the district's
        province."""
        tokens, ctx = words.tokens, self.context
        for j in range(hi + 2, min(hi + 5, len(tokens))):
            between = tokens[hi + 1 : j]
            if len([t for t in between if t.text != "د"]) > 2:
                return False
            if any(t.text in ctx.conjunctions or t.text in ctx.references for t in between):
                return False
            if any(words.clause_mark_before(k) for k in range(hi + 1, j + 1)):
                return False
            if tokens[j].text in ctx.districts:
                return True
        return False

    def _after_named_district(self, words: PostWords, lo: int) -> bool:
        """Whether a district word and a town's name stand right before token lo ("ولسوالی کرخ هرات"):
        the name at lo is the district's province, the town before it the one taken."""
        tokens, districts = words.tokens, self.context.districts
        for d in range(lo - 2, max(-1, lo - 2 - self.index.max_words), -1):
            if tokens[d].text in districts:
                names = [t.text for t in tokens[d + 1 : lo]]
                return (
                    not words.clause_mark_before(lo) and self._lookup(words, d + 1, lo - 1, names) is not None
                )
        return False

    def _route_end(self, words: PostWords, lo: int, hi: int) -> bool:
        """Whether a dash joins the name at tokens lo..hi to the name of another place, as the ends of a
        road or a front line are written ("Кабул — Кандагар", "Sanaa–Taiz"); not to another name of the
        same place ("Pokrovsk - Krasnoarmeïsk dans la nomenclature russe") nor to a word in lower case
        ("Балаклія — українська!"). A hyphen inside one name (Mazar-i-Sharif) never gets here: the
        longest name is read first."""
        tokens, text = words.tokens, words.text
        own = self.index.candidates([t.text for t in tokens[lo : hi + 1]])
        if own is None:
            return False
        n = self.index.max_words
        if hi + 1 < len(tokens) and text[tokens[hi].end : tokens[hi + 1].start].strip() in _ROUTE_DASHES:
            spans = [(hi + 1, hi + k) for k in range(min(n, len(tokens) - hi - 1), 0, -1)]
        elif lo > 0 and text[tokens[lo - 1].end : tokens[lo].start].strip() in _ROUTE_DASHES:
            spans = [(lo - k, lo - 1) for k in range(min(n, lo), 0, -1)]
        else:
            return False
        for a, b in spans:
            other = self.index.candidates([t.text for t in tokens[a : b + 1]])
            if other is None:
                continue
            first = text[tokens[a].start]
            capitalised = first.isupper() or first.lower() == first.upper()  # Arabic script has no case
            return capitalised and set(own[0]).isdisjoint(other[0])
        return False

    def _holding(self, tokens: list[Token], lo: int, hi: int, spelling: Spelling) -> bool:
        """Whether the name at tokens lo..hi stands for the government that holds a place: right after
        "under the control of", "aux mains de", "به دست" (in Russian and Ukrainian only in the genitive:
        "под контроль Багдада" is Baghdad's control, "под контроль Киев" and "під контроль Балаклію" a
        place taken), or right before "'s control", "لاس ته"."""
        ctx = self.context
        after = tuple(t.text for t in tokens[hi + 1 : hi + 1 + ctx.speaking_longest])
        if any(after[: len(p)] == p for p in ctx.held_by_after):
            return True
        if "\u0400" <= tokens[lo].text[:1] <= "\u04ff":
            genitive = spelling is Spelling.DECLINED and tokens[hi].text[-1:] in _GENITIVE_ENDINGS
            if not genitive:
                return False  # "під контроль Балаклію", "под контроль Киев": the place taken
        return _ends_with_any(self._before(tokens, lo), ctx.held_by_before)

    def _not_the_place(self, text: str, tokens: list[Token], lo: int, hi: int) -> str:
        """'near Kunduz', 'outskirts of the city of Kunduz', 'Kunduz province', 'ولایت بلخ': why not.
        A region word beside a centre word names the town ("د سنګین ولسوالۍ مرکز", "X district centre",
        "مرکز ولسوالی X"): the district's centre is the town of its name."""
        ctx = self.context
        why = self._what_follows(text, tokens, lo, hi)
        if why:
            return why
        right_before = self._before(tokens, lo)
        for n, group in _by_length(ctx.region_before):
            if n <= len(right_before) and right_before[len(right_before) - n :] in group:
                head = tokens[lo - n - 1].text if lo - n - 1 >= 0 else ""
                if head in ctx.centres or (head,) in ctx.capital_of:
                    break  # "столица провинции Меймене": the province's capital, named
                if hi + 1 < len(tokens) and tokens[hi + 1].text in ctx.references | ctx.districts:
                    break  # "د صلاح الدین ولایت الشرقاط ښار", "د کندز ولایت امام صاحب ولسوالۍ": a town after
                if n == 1 and right_before[-1] in ctx.districts:
                    break  # "ولسوالی خان‌آباد": a district named after its centre, the town
                return "a region word before the name (the province, not the city)"
        if any(tokens[j].text in DISTANCE_UNITS for j in (lo - 1, lo - 2) if j >= 0):
            return "a distance from the name ('20 km above Goma'): where another place lies"
        end = lo  # the near-phrase must end right before `end`, after skipping filler words
        for _ in range(4):
            before = self._before(tokens, end)
            if _ends_with_any(before, ctx.near):
                return "a nearness word before the name (near, outskirts of, airport of)"
            if end == 0 or tokens[end - 1].text not in ctx.filler:
                return ""
            end -= 1
        return ""

    def _what_follows(self, text: str, tokens: list[Token], lo: int, hi: int) -> str:
        """Why the words after a name say it is not the place taken (a region word, a government
        speaking, a thing named after it), or ""."""
        ctx = self.context
        after = tuple(ctx.bare(t.text) for t in tokens[hi + 1 : hi + 1 + ctx.longest])
        for p in ctx.region_after:
            if after[: len(p)] == p:
                centre = hi + 1 + len(p)
                if centre < len(tokens) and tokens[centre].text in ctx.centres:
                    break
                if len(p) == 1 and p[0] in ctx.districts:
                    break  # "امام صاحب ولسوالۍ": a district named after its centre, the town
                if lo > 0 and tokens[lo - 1].text in ctx.districts:
                    break  # "ولسوالی فرخار ولایت تخار": the region word is the next name's
                return "a region word after the name (the province, not the city)"
        if self._speaking(text, tokens, hi):
            return "a government speaking ('Kyiv says'), not a place taken"
        if any(after[: len(p)] == p for p in ctx.thing_after):
            return "a thing named after the place ('the Izium group', 'the Kupiansk road'), not the place"
        return ""

    @staticmethod
    def _note(words: PostWords, lo: int, hi: int, name: str, quiet: bool, matched: bool, why: str) -> None:
        if words.trace is not None and not quiet:
            tokens = words.tokens
            words.trace.candidate(tokens[lo].start, tokens[hi].end, name, matched, why)


# Pashto's postposition "to", and the pronouns a town may be handed over to ("هغوی ته", to them).
PASHTO_TO = "ته"
_PRONOUNS = frozenset({"هغوی", "دوی", "هغو"})

# Before a name that ends a heading: where the news comes from ("گزارش‌ها از هرات:", "from Herat:").
_SOURCE_WORDS = frozenset({"از", "from", "из", "з", "من"})


def _ends_with_any(words: tuple[str, ...], phrases: frozenset[tuple[str, ...]]) -> bool:
    return any(n <= len(words) and words[len(words) - n :] in group for n, group in _by_length(phrases))


@lru_cache(maxsize=16)
def _by_length(phrases: frozenset[tuple[str, ...]]) -> tuple[tuple[int, frozenset[tuple[str, ...]]], ...]:
    """The phrases grouped by their number of words, so a check is one set lookup per length."""
    lengths = sorted({len(p) for p in phrases})
    return tuple((n, frozenset(p for p in phrases if len(p) == n)) for n in lengths)


def _one_name(words: PostWords, lo: int, hi: int) -> bool:
    """Whether tokens lo..hi read as one name, as a spelling found only by its sound must: one word,
    or (in cased scripts) words each capitalised or hyphenated to the one before ("Джиср-еш-Шугур",
    "Tell Rifaat"), never a name and the words after it."""
    if lo == hi:
        return True
    text, tokens = words.text, words.tokens
    if not text[tokens[lo].start].isupper():
        return False
    starts = [tokens[k].start for k in range(lo + 1, hi + 1)]
    return all(text[s].isupper() or text[s - 1] in _HYPHENS for s in starts)


def _inside_hyphenated(words: PostWords, lo: int, hi: int) -> bool:
    """Whether tokens lo..hi are only part of a hyphenated name ("Абу" in "Абу-Кемаль", "Хан" in
    "Хан-Шейхун"): the whole compound is one name, and a part of it names some other town."""
    text, tokens = words.text, words.tokens
    end, start = tokens[hi].end, tokens[lo].start
    after = (
        end + 1 < len(text)
        and text[end] in _HYPHENS
        and (text[end + 1].isupper() or _ARTICLE_THEN_NAME.match(text, end + 1) is not None)
    )  # "Баб-эль-Азизия", "Дейр-эз-Зор": an article, then the rest of the name
    if after:
        return True  # "Rutshuru-centre" and "Kyiv-based" are still Rutshuru and Kyiv
    if start < 2 or text[start - 1] not in _HYPHENS or not text[start - 2].isalpha():
        return False
    word = lo - 1 if lo > 0 else lo
    return text[tokens[word].start].isupper()  # "pro-Kyiv" is Kyiv


# Pashto wraps where something happened in a preposition and a postposition: "په هرات کې" = in Herat.
_LOCATIVE_AROUND = (frozenset({"په"}), frozenset({"کی", "کې"}))


def _closed_locative(tokens: list[Token], lo: int, hi: int) -> bool:
    """Whether the name at tokens lo..hi stands inside "په … کې" (in X): where, not what."""
    return (
        hi + 1 < len(tokens)
        and tokens[hi + 1].text in _LOCATIVE_AROUND[1]
        and any(tokens[j].text in _LOCATIVE_AROUND[0] for j in range(max(0, lo - 3), lo))
    )


def _stop(words: PostWords, step: int, reason: str, i: int) -> None:
    """Record why the walk ended at token i (clamped to the post's tokens: the walk may run off its end)."""
    if words.trace is not None:
        tokens = words.tokens
        at = tokens[min(max(i, 0), len(tokens) - 1)].start if tokens else 0
        words.trace.stop(step, reason, at)


@lru_cache(maxsize=64)
def _blocker_set(blockers: tuple[str, ...]) -> frozenset[str]:
    return frozenset(b.strip() for b in blockers)


def _blocker_at(tokens: list[Token], i: int, step: int, blockers: tuple[str, ...]) -> str:
    """The blocker phrase that begins at token i (walking forward) or ends there (walking back)."""
    phrases = _blocker_set(blockers)
    for n in range(1, 5):
        lo, hi = (i, i + n) if step > 0 else (i - n + 1, i + 1)
        if lo < 0 or hi > len(tokens):
            break
        words = " ".join(t.text for t in tokens[lo:hi])
        if words in phrases:
            return words
    return ""
