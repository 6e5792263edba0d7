"""What a person means by a place or a country they type: every candidate, never a silent pick.

"Tripoli" names two cities (Libya, Lebanon): both come back, and the chat chooses. "Tripoli,
Lebanon", "Tripoli LB" and "Tripoli (LB)" narrow the choice by country. A typo ("Afganistan",
"Kondoz") gets the closest names as suggestions (rapidfuzz). Countries are matched in every language
the bot speaks (bot/telegram/country_names.py) and in the rules' own country names. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

from bot.rules.gazetteer import PlaceIndex
from bot.rules.text import fold_phrase
from bot.telegram.country_names import country_names, spelled_names

# At most this many candidates are offered as buttons; more would not fit a phone's screen.
MAX_CANDIDATES = 6
# rapidfuzz's WRatio from 0 to 100: below this a name is too far from what was typed to suggest.
SUGGESTION_MIN_SCORE = 86
MAX_SUGGESTIONS = 3
# A qualifier after the name: "Tripoli (LB)", "Tripoli, Lebanon".
_BRACKETED = re.compile(r"^(.+?)\s*\(([^()]+)\)$")


@dataclass(frozen=True)
class PlaceChoice:
    geonameid: int | None
    name: str
    country: str  # ISO 3166 alpha-2

    @property
    def key(self) -> str:
        return str(self.geonameid) if self.geonameid is not None else fold_phrase(self.name)


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "country" or "place"
    value: str  # an ISO code, or a place key
    name: str


@dataclass
class Found:
    """Everything a typed name may mean; the caller asks when there is more than one."""

    countries: list[str] = field(default_factory=list)
    places: list[PlaceChoice] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.countries) + len(self.places)


class PlaceLookup:
    """Countries and places by name, over one compiled place index (built again when rules reload)."""

    def __init__(self, index: PlaceIndex, focus: frozenset[str] = frozenset()) -> None:
        self.index = index
        self.focus = focus

    @cached_property
    def _by_id(self) -> dict[int, PlaceChoice]:
        return {
            p.geonameid: PlaceChoice(p.geonameid, p.name, p.country)
            for p in self.index.places
            if p.geonameid is not None
        }

    @cached_property
    def _place_names(self) -> list[str]:
        """Folded names of places worth suggesting: in a focus country, or a sizeable city."""
        wanted = []
        for name, hits in self.index.names.items():
            place = self.index.places[hits[0]]
            if place.country in self.focus or place.population >= 100_000:
                wanted.append(name)
        return wanted

    def place(self, key: str) -> PlaceChoice | None:
        """A place by its key (a geonameid, or the folded name of a place without one)."""
        if key.isdigit():
            return self._by_id.get(int(key))
        hits = self.index.names.get(key)
        if not hits:
            return None
        found = self.index.places[hits[0]]
        return PlaceChoice(found.geonameid, found.name, found.country) if found.geonameid is None else None

    def countries(self, text: str) -> list[str]:
        """ISO codes a typed name may mean, focus countries first."""
        key = fold_phrase(text)
        codes = set(country_names().get(key, frozenset()))
        if key in self.index.countries:
            codes.add(self.index.countries[key])
        return sorted(codes, key=lambda c: (c not in self.focus, c))

    def places(self, text: str, within: list[str] | None = None) -> list[PlaceChoice]:
        """Places with exactly this name (in any script), focus countries then the most populous first."""
        words = fold_phrase(text).split(" ")
        found = self.index.candidates(words) if words != [""] else None
        if found is None:
            return []
        choices: list[PlaceChoice] = []
        for idx in found[0]:
            place = self.index.places[idx]
            choice = PlaceChoice(place.geonameid, place.name, place.country)
            if (within is None or place.country in within) and choice not in choices:
                choices.append(choice)
        return choices[:MAX_CANDIDATES]

    def find(self, text: str) -> Found:
        """Countries and places the text may mean; suggestions when it means nothing known."""
        text = text.strip()
        if not text:
            return Found()
        countries = self.countries(text)
        if len(countries) == 1:  # a country's name wins over a town that bears it (Palestine, Texas)
            return Found(countries=countries)
        found = Found(countries=countries, places=self.places(text))
        if found.count == 0:
            found.places = self._qualified(text)
        if found.count == 0:
            found.suggestions = self.suggest(text)
        return found

    def _qualified(self, text: str) -> list[PlaceChoice]:
        """'Tripoli, Lebanon', 'Tripoli (LB)', 'Tripoli LB', 'Tripoli Lebanon': the place, in that country."""
        splits: list[tuple[str, str]] = []
        bracketed = _BRACKETED.match(text)
        if bracketed:
            splits.append((bracketed.group(1), bracketed.group(2)))
        if "," in text:
            head, _, tail = text.rpartition(",")
            splits.append((head, tail))
        words = text.split()
        splits += [(" ".join(words[:-n]), " ".join(words[-n:])) for n in (1, 2, 3) if len(words) > n]
        for name, qualifier in splits:
            within = self.countries(qualifier)
            if within and name.strip():
                places = self.places(name, within)
                if places:
                    return places
        return []

    def suggest(self, text: str) -> list[Suggestion]:
        """Known names close to a typo: countries first, then places."""
        key = fold_phrase(text)
        if len(key) < 4:
            return []
        out: list[Suggestion] = []
        spelled = spelled_names()
        for name, _, _ in process.extract(
            key, list(spelled), scorer=fuzz.ratio, limit=MAX_SUGGESTIONS, score_cutoff=SUGGESTION_MIN_SCORE
        ):
            code = spelled[name]
            if all(s.value != code for s in out):
                out.append(Suggestion("country", code, code))
        for name, _, _ in process.extract(
            key,
            self._place_names,
            scorer=fuzz.ratio,
            limit=MAX_SUGGESTIONS,
            score_cutoff=SUGGESTION_MIN_SCORE,
        ):
            place = self.index.places[self.index.names[name][0]]
            choice = PlaceChoice(place.geonameid, place.name, place.country)
            if all(s.value != choice.key for s in out):
                out.append(Suggestion("place", choice.key, place.name))
        return out[:MAX_SUGGESTIONS]


_current: tuple[PlaceIndex, PlaceLookup] | None = None


def lookup_for(index: PlaceIndex, focus: frozenset[str]) -> PlaceLookup:
    """The lookup of the current place index; a reload of the rules brings a new index and a new lookup."""
    global _current
    if _current is None or _current[0] is not index or _current[1].focus != focus:
        _current = (index, PlaceLookup(index, focus))
    return _current[1]
