"""The shape of rules.yaml, as pydantic models. The JSON Schema for editors is generated from here."""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

import re2
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.rules.text import fold_phrase
from bot.sources.accounts import FORMS as ACCOUNT_FORMS
from bot.sources.accounts import BadAccount, parse_account

PLACE_SLOT = "{place}"


def compile_regex(pattern: str) -> re2._Regexp:
    """RE2 runs in linear time, so no rule can hang the matcher; its C++ logging stays quiet."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options=options)


LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639-1 code, e.g. en, fa, ps")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. AF")]
Phrase = Annotated[str, Field(min_length=1, max_length=200)]
# Upper bounds on numbers, so none overflows what uses it (Redis EXPIRE, the event store's arithmetic).
GeonameId = Annotated[int, Field(ge=1, le=2_000_000_000, description="GeoNames id")]  # ids are 32-bit
Population = Annotated[int, Field(ge=0, le=100_000_000)]  # more than the largest city (~37 million)
MINUTES_IN_A_YEAR = 525_600

CUE_FAMILIES = ("hedge", "denial", "past", "other_sense", "partial", "leaving")
# A placeholder-like mark that is not exactly {place}: "{place", "{plase}", "place}", "{ place }".
_STRAY_SLOT = re.compile(r"\{[^{}]*\}?|\}")
# An inflected word: "<seize> {place}" stands for seize, seizes, seized, seizing (bot/rules/inflect.py).
_LEMMA = re.compile(r"<[^<>\s]+>")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegexTrigger(Strict):
    """A trigger written as a regular expression (RE2 syntax: linear time, no backreferences)."""

    regex: Annotated[str, Field(min_length=1, max_length=500)]
    place: Literal["before", "after", "any"] = Field(
        "any", description="Where the place must stand relative to the text the regex matched."
    )

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_regex(value)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ValueError(f"not a valid RE2 regular expression: {reason}") from None
        return value


def _check_trigger_phrase(phrase: str) -> str:
    text = phrase.strip()
    words = text.replace(PLACE_SLOT, "").strip()
    stray = _STRAY_SLOT.search(words)
    if stray:
        raise ValueError(f"'{phrase}': '{stray.group()}' is not a placeholder; write {PLACE_SLOT} exactly")
    if "<" in _LEMMA.sub("", words) or ">" in _LEMMA.sub("", words):
        raise ValueError(f"'{phrase}': an inflected word is written <lemma>, one word between < and >")
    if text.count(PLACE_SLOT) > 1:
        raise ValueError(f"'{phrase}' has more than one {PLACE_SLOT}")
    if not fold_phrase(_LEMMA.sub(lambda lemma: lemma.group()[1:-1], words)):  # punctuation is not matched
        raise ValueError(f"'{phrase}' has no words besides {PLACE_SLOT}")
    if PLACE_SLOT in text and not (text.startswith(PLACE_SLOT) or text.endswith(PLACE_SLOT)):
        raise ValueError(f"'{phrase}': {PLACE_SLOT} must stand at the start or the end")
    if any("*" in part.strip()[:-1] for part in words.split("…")):
        raise ValueError(f"'{phrase}': '*' may only end the last word (of each side of '…')")
    if words.count("…") > 1:
        raise ValueError(f"'{phrase}': one '…' at most (a verb … the words after its object)")
    return phrase


TriggerPhrase = Annotated[Phrase, AfterValidator(_check_trigger_phrase)]
Trigger = TriggerPhrase | RegexTrigger


class CueFamilies(Strict):
    """Phrases that cancel a trigger in the same sentence, by why they cancel it."""

    hedge: list[Phrase] = Field(default_factory=list, description="Forecasts: could fall, on the verge of")
    denial: list[Phrase] = Field(default_factory=list, description="Denials: has not fallen, repelled")
    past: list[Phrase] = Field(default_factory=list, description="History: anniversary, a year ago")
    other_sense: list[Phrase] = Field(
        default_factory=list, description="Other meanings: fallen soldiers, captured the title"
    )
    partial: list[Phrase] = Field(
        default_factory=list, description="Partial control: half of the city, a district, the airport"
    )
    leaving: list[Phrase] = Field(
        default_factory=list,
        description=(
            "The holders left or lost it, the place unnamed (withdrew, pulled out, انسحاب, a new flag"
            " raised): cancels nothing, but lets the rule's `entering` phrases count"
        ),
    )


class PlaceOverride(Strict):
    """A place added to the gazetteer, or a GeoNames place given a display name and aliases."""

    geonameid: GeonameId | None = Field(None, description="GeoNames id; omit for a place GeoNames lacks")
    name: Phrase | None = Field(None, description="Display name in alerts; defaults to the GeoNames name")
    country: CountryCode | None = Field(None, description="Required when geonameid is omitted")
    aliases: list[Phrase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _identifies_a_place(self) -> PlaceOverride:
        if self.geonameid is None and (self.name is None or self.country is None):
            raise ValueError("a place without geonameid needs both name and country")
        return self


class Gazetteer(Strict):
    min_population: Population = Field(
        15000, description="Cities below this are not places, unless their country says otherwise"
    )
    countries: dict[CountryCode, Population] = Field(
        default_factory=dict,
        description="Country code -> minimum population for that country (focus countries)",
    )
    only_countries: list[CountryCode] = Field(
        default_factory=list, description="When set, places outside these countries are ignored"
    )
    places: list[PlaceOverride] = Field(default_factory=list)
    exclude_names: list[Phrase] = Field(
        default_factory=list, description="Names never read as places (words that happen to be towns)"
    )


class PlaceWords(Strict):
    """Words around a place name that say the post is not about the place itself."""

    near: list[Phrase] = Field(
        default_factory=list,
        description="Before a name: only a landmark (near, outskirts of, villages around)",
    )
    region_before: list[Phrase] = Field(
        default_factory=list,
        description="Before a name: a province or region of that name (province of, ولایت)",
    )
    region_after: list[Phrase] = Field(
        default_factory=list, description="After a name: a province or region of that name (province, oblast)"
    )
    filler: list[Phrase] = Field(
        default_factory=list, description="Words that may stand between those and the name (the, city, of)"
    )
    conjunctions: list[Phrase] = Field(
        default_factory=list,
        description="Words that join a list of places (and, or): 'Kunduz and Taloqan fell'",
    )
    references: list[Phrase] = Field(
        default_factory=list,
        description="Words that refer back to the place last named in the post: 'Kunduz … The city fell'",
    )
    centres: list[Phrase] = Field(
        default_factory=list,
        description=(
            "Next to a region word: the region's centre, which is the town of that name"
            " ('district centre', 'ولسوالۍ مرکز'), so the name is the town, not the region"
        ),
    )
    named_districts: list[Phrase] = Field(
        default_factory=list,
        description=(
            "Words for a district named after its centre town (Afghanistan's ولسوالۍ): beside a name,"
            " the town, not a region or a part of one ('X ولسوالۍ ونیوله' reports the town X)"
        ),
    )

    @field_validator("named_districts")
    @classmethod
    def _one_word_each(cls, value: list[str]) -> list[str]:
        longer = [p for p in value if len(fold_phrase(p).split()) != 1]
        if longer:
            raise ValueError(f"each named district word must be one word, not {', '.join(map(repr, longer))}")
        return value

    speaking_after: list[Phrase] = Field(
        default_factory=list,
        description=(
            "Right after a name: the name stands for a government speaking ('Kyiv says',"
            " 'وكييف تعلن', 'Ереван пока не комментирует'), not for a place taken"
        ),
    )
    thing_after: list[Phrase] = Field(
        default_factory=list,
        description=(
            "Right after a name: a thing named after the place ('Russia's Izium group', 'the Kupiansk"
            " road', 'the Bakhmut direction'), not the place"
        ),
    )
    held_by_before: list[Phrase] = Field(
        default_factory=list,
        description=(
            "Right before a name: the name stands for the government holding a place ('under the"
            " control of Baghdad', 'aux mains de Kiev', 'به دست کی‌یف'), not for a place taken;"
            " in Russian and Ukrainian only a declined name ('под контроль Багдада', not '… Киев')"
        ),
    )
    held_by_after: list[Phrase] = Field(
        default_factory=list,
        description="Right after a name: the same ('Baghdad's control', 'د کابل لاس ته')",
    )
    capital_of: list[Phrase] = Field(
        default_factory=list,
        description=(
            "Before a province name: the place meant is that province's capital"
            " ('the capital of Helmand province', 'مرکز ولایت بلخ'); provinces are listed in"
            " bot/rules/data/aliases.yaml"
        ),
    )


class Actor(Strict):
    """Who may take a place, with the names each language calls them by."""

    name: Phrase = Field(description="The name alerts use: Taliban, RSF, Russian forces")
    names: dict[LanguageCode, list[Phrase]] = Field(
        default_factory=dict, description="Language -> names and forms in the text ('талибы', 'طالبان')"
    )


def _account(value: str) -> str:
    """An account in any network's form, kept as written canonically (`x:name` becomes `@name`)."""
    try:
        return parse_account(value).written
    except BadAccount as exc:
        raise ValueError(str(exc)) from None


AccountRef = Annotated[
    str,
    AfterValidator(_account),
    Field(
        description=f"An account as copied from its network: {ACCOUNT_FORMS}",
        json_schema_extra={
            "pattern": r"^((x:)?@?[A-Za-z0-9_]{1,15}|(bsky|mastodon|tg):\S+|rss:https?://\S+)$"
        },
    ),
]


class AccountGroup(Strict):
    trust: int = Field(1, ge=0, le=3, description="0 unknown, 1 known, 2 established reporter, 3 official")
    role: Literal["journalist", "outlet", "official", "party", "other"] = Field(
        "other",
        description=(
            "What these accounts are. A party to a conflict (its spokesman, its ministry) claims; it never"
            " confirms: its reports raise 'claimed by <side>', not 'confirmed'"
        ),
    )
    side: str | None = Field(
        None, max_length=60, description="For a party: the side it speaks for (Taliban, Russia, RSF, M23)"
    )
    outlet: str | None = Field(
        None,
        max_length=60,
        description="Accounts of one outlet (its desks and languages): they count as one independent source",
    )
    accounts: list[AccountRef] = Field(default_factory=list)


class ReaderUse(Strict):
    """How a rule uses the second reader (bot/rules/reader.py), a model trained on the labelled corpora
    that scores a whole post 0..1 for how likely it reports a town taken."""

    veto_below: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="A match of the rule's phrases in a post scored below this is dropped",
    )
    report_above: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description=(
            "A post the phrases did not match, scored at or above this, is reported at the place the reader"
            " picks among those it names (1.0 turns this off)"
        ),
    )


class Rule(Strict):
    # Short enough for Telegram's 64-byte button data ("sub:rule:<id>", "fb:<id>:<place>:<n>:good").
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=32)]
    description: str = ""
    triggers: dict[LanguageCode, Annotated[list[Trigger], Field(min_length=1)]] = Field(
        min_length=1,
        description=(
            "Language -> phrases. '{place}' marks where the place stands;"
            " a word ending in '*' matches any ending."
        ),
    )
    cancel: dict[LanguageCode, CueFamilies] = Field(
        default_factory=dict, description="Cues for this rule only, on top of the shared ones"
    )
    gap_blockers: dict[LanguageCode, list[Phrase]] = Field(
        default_factory=dict, description="Words that may not stand between trigger and place (near, outside)"
    )
    accounts: list[str] | Literal["any"] = Field(
        "any", description="'any', or account group names and @handles whose posts this rule reads"
    )
    withdrawal: dict[LanguageCode, list[TriggerPhrase]] = Field(
        default_factory=dict,
        description=(
            "Language -> phrases of the holders leaving ('withdrew from {place}'): a report like any"
            " trigger, but an actor named as their subject is the side that left, not the one that took"
        ),
    )
    entering: dict[LanguageCode, list[TriggerPhrase]] = Field(
        default_factory=dict,
        description=(
            "Language -> phrases of a force entering a place ('entered {place}'): a report only when the"
            " post also says the holders left (a `leaving` cue): 'X entered Y; the army withdrew'"
        ),
    )
    kind: Literal["fallen", "contested"] = Field(
        "fallen", description="What a match says: the place fell, or it is being fought over or entered"
    )
    opt_in: bool = Field(
        False,
        description=(
            "Delivered only to chats that subscribe to this rule by id, never to chats that follow everything"
        ),
    )
    max_gap_words: int = Field(6, ge=0, le=20, description="Words allowed between a trigger and its place")
    cancel_on_past_year: bool = Field(
        True, description="A year before the post's own in the sentence cancels it"
    )
    confirm_sources: int = Field(
        3,
        ge=2,
        le=20,
        description=(
            "Independent sources, one of them a trusted journalist or outlet (trust 2+), that make an"
            " alert 'confirmed'; parties to the conflict never count towards it"
        ),
    )
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    window_minutes: int = Field(
        360,
        ge=1,
        le=MINUTES_IN_A_YEAR,
        description="Matches of this rule and place this close form one event",
    )
    min_sources: int = Field(1, ge=1, le=1000, description="Distinct authors needed before the first alert")
    exclude_places: list[GeonameId] = Field(
        default_factory=list, description="geonameids this rule never reports"
    )
    reader: ReaderUse | None = Field(
        None, description="Let the second reader, a trained model, veto and add matches (see ReaderUse)"
    )


class RulesFile(Strict):
    version: Literal[1] = 1
    gazetteer: Gazetteer = Field(default_factory=Gazetteer)
    account_groups: dict[str, AccountGroup] = Field(default_factory=dict)
    cues: dict[LanguageCode, CueFamilies] = Field(
        default_factory=dict, description="Cancel cues shared by every rule, per language"
    )
    place_words: PlaceWords = Field(default_factory=PlaceWords)
    actors: list[Actor] = Field(default_factory=list, description="Who takes places, for a match's actor")
    rules: list[Rule] = Field(min_length=1)


def json_schema_text() -> str:
    """The JSON Schema of rules.yaml, as committed in rules.schema.json."""
    schema = RulesFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "frontwatch rules.yaml"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(json_schema_text(), end="")
