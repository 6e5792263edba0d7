"""Country names as people type them, in every language the bot speaks, from CLDR and ISO 3166 data.

Names come from Babel (CLDR's territory names in each UI language) and pycountry (ISO 3166 names
and their translations), plus the forms those names imply: the part before a comma or a bracket
("Palestine, State of", "Myanmar (Burma)"), the comma form turned round ("The Democratic Republic
of the Congo") and its initials ("DRC", "DR Congo", "UK", "UAE"). Nothing here is a hand-kept list:
the rules' own country names (rules.yaml's alias file) are added by the caller. Pure; built once.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable
from functools import cache

import pycountry
from babel import Locale

from bot.rules.text import fold_phrase
from bot.telegram.i18n import LANGUAGES

# Words left out of initials: "Democratic Republic of the Congo" -> DRC.
_SMALL_WORDS = frozenset("of the and da de du des la le".split())
_BRACKETS = re.compile(r"\s*\(([^)]*)\)\s*")


def flag(code: str) -> str:
    """The flag emoji of an ISO 3166 alpha-2 code (regional indicator letters)."""
    if len(code) != 2 or not code.isalpha():
        return "🏳"
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in code.upper())


@cache
def country_name(code: str, lang: str = "en") -> str:
    """The country's usual name in a UI language (CLDR), else its ISO name, else the code."""
    name = Locale.parse(lang).territories.get(code)
    if name:
        return str(name)
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country is not None else code


def name_forms(name: str) -> list[str]:
    """A name and the shorter or reordered forms people use for it."""
    forms = [name]
    inside = _BRACKETS.search(name)
    if inside:
        forms += [_BRACKETS.sub(" ", name).strip(), inside.group(1)]
    if " - " in name or " – " in name:  # CLDR's "Congo - Kinshasa": the part before the dash
        forms.append(re.split(r" [-–] ", name)[0])
    if "," in name:
        head, _, tail = name.partition(",")
        turned = f"{tail.strip()} {head.strip()}"
        forms += [head.strip(), turned]
        forms += _initial_forms(turned)
    forms += _initial_forms(forms[0] if not inside else forms[1])
    return [f for f in forms if f.strip()]


def _initial_forms(name: str) -> list[str]:
    """'Democratic Republic of the Congo' -> ['DRC', 'DR Congo']; 'United Kingdom' -> ['UK']."""
    words = [w for w in re.split(r"[\s'’]+", name) if w and w.lower() not in _SMALL_WORDS]
    if len(words) < 2 or not all(w[:1].isupper() for w in words):
        return []
    forms = ["".join(w[0] for w in words)]
    if len(words) >= 3:
        forms.append("".join(w[0] for w in words[:-1]) + " " + words[-1])
    return forms


def _translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _iso_names(country: object, translators: list[gettext.NullTranslations]) -> Iterable[str]:
    for attr in ("name", "official_name", "common_name"):
        value = getattr(country, attr, None)
        if value:
            yield str(value)
            for translator in translators:
                yield translator.gettext(str(value))


@cache
def country_names() -> dict[str, frozenset[str]]:
    """Folded name -> the ISO codes it may mean (two when ambiguous: "Congo", "Korea")."""
    table: dict[str, set[str]] = {}

    def add(name: str, code: str) -> None:
        for form in name_forms(name):
            key = fold_phrase(form)
            if key:
                table.setdefault(key, set()).add(code)

    translators = [_translations(lang) for lang in LANGUAGES if lang != "en"]
    locales = [Locale.parse(lang) for lang in LANGUAGES]
    for country in pycountry.countries:
        code = str(country.alpha_2)
        for name in _iso_names(country, translators):
            add(name, code)
        for locale in locales:
            local = locale.territories.get(code)
            if local:
                add(str(local), code)
    for country in pycountry.countries:  # codes last, and alone: "IN" is India, whatever else it spells
        table[fold_phrase(str(country.alpha_2))] = {str(country.alpha_2)}
        table.setdefault(fold_phrase(str(country.alpha_3)), {str(country.alpha_2)})
    return {key: frozenset(codes) for key, codes in table.items()}


@cache
def spelled_names() -> dict[str, str]:
    """Folded full names (no initials, no codes) -> a code, for 'did you mean' suggestions."""
    names: dict[str, str] = {}
    for key, codes in country_names().items():
        if len(codes) == 1 and len(key) > 3:
            names[key] = next(iter(codes))
    return names
