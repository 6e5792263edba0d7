"""Names no list spells: a town found by the consonants its spellings share (bot/rules/sounds.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.rules import Match
from bot.rules.engine import Detector
from bot.rules.gazetteer import Spelling
from bot.rules.sounds import sound_keys
from bot.rules.text import fold_phrase, script_of


def keys(name: str) -> list[str]:
    return sound_keys(fold_phrase(name).split(" "))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Tall Rif‘at", "Телль-Ріфаат"),
        ("Jisr ash Shughūr", "Джиср-еш-Шугур"),
        ("Abu Kamal", "Абу-Кемаль"),
        ("Buthidaung", "Бутідаунг"),
        ("Qal‘ah-ye Now", "Qala-e-Naw"),
        ("Sievierodonetsk", "Severodonetsk"),
        ("Jarabulus", "Jarablous"),
        ("Marka", "مركا"),
        ("‘Amrān", "عمران"),
        ("Ad Dindar", "الدندر"),
    ],
)
def test_spellings_of_one_name_in_any_script_share_a_sound_key(one: str, other: str) -> None:
    reader = "arabic" if script_of(other) == "arabic" else None  # Arabic script writes shorter skeletons
    assert set(sound_keys(fold_phrase(one).split(" "), reader)) & set(keys(other))


def test_the_arabic_article_in_any_spelling_is_one_letter_of_the_key() -> None:
    assert keys("El Daein") == keys("Ed Daein") == keys("Ед-Даїн") == []  # three letters: too short
    assert sound_keys(["el", "daein"], "arabic") == sound_keys(["ed", "daein"], "arabic") == ["ldn"]


@pytest.mark.parametrize("name", ["Hit", "Хит", "Daraa", "Al Bab", "بارا", "Gao"])
def test_names_too_short_to_tell_apart_get_no_sound_key(name: str) -> None:
    assert keys(name) == []


def test_an_english_word_that_looks_like_an_article_is_not_one() -> None:
    assert keys("at Kunduz") != keys("al Kunduz")


@pytest.mark.parametrize(
    ("text", "geonameid"),
    [
        ("Повстанці взяли Джиср-еш-Шугур після тижня боїв у провінції Ідліб.", 169023),
        ("Туркоманські загони зайняли Телль-Ріфаат, курдські сили відступили на схід.", 163476),
        ("Повстанцы заявили о захвате Бутідаунга в штате Ракхайн.", 1327854),
        ("Taliban fighters have captured Qala-e-Naw, capital of Badghis, officials say.", 1129867),
        ("الجيش يعلن استعادة مدينة الدندر بعد معارك مع قوات الدعم السريع", 13132448),  # or 380151, below
    ],
)
def test_a_town_spelled_as_no_list_spells_it_is_still_found(
    detect: Callable[..., list[Match]], text: str, geonameid: int
) -> None:
    found = {m.geonameid for m in detect(text) if m.rule == "city-fallen"}
    assert geonameid in found or (geonameid == 13132448 and 380151 in found)  # GeoNames has Ad Dindar twice


def test_a_lower_case_word_never_names_a_place_by_its_sound(detect: Callable[..., list[Match]]) -> None:
    # (Джиср-еш-Шугур is in the alias file now, written: a lower-case spelling of it counts)
    assert [m.location for m in detect("Повстанці взяли Телль-Ріфаат після тижня боїв.")] == ["Tall Rif‘at"]
    assert detect("Повстанці взяли телль-ріфаат після тижня боїв.") == []


def test_arabic_script_reaches_towns_abroad_only_by_long_keys(detector: Detector) -> None:
    index = detector.compiled.places
    arabic = [k for k in index.sounds if k.startswith("a:")]
    elsewhere = {"UA", "MM", "CD"}
    abroad = [k for k in arabic if any(index.places[i].country in elsewhere for i in index.sounds[k])]
    assert arabic and abroad
    assert min(len(k) - len("a:") for k in abroad) >= 5


def test_a_persian_transliteration_of_a_ukrainian_town_is_found(detect: Callable[..., list[Match]]) -> None:
    matches = detect("نیروهای روسیه پس از ماه‌ها نبرد شهر سیورسک را تصرف کردند.")
    assert 694403 in {m.geonameid for m in matches if m.rule == "city-fallen"}  # Siversk


def test_a_name_found_only_by_sound_says_so(detector: Detector) -> None:
    found = detector.compiled.places.lookup(fold_phrase("Телль-Ріфаат").split(" "))
    assert found is not None and found[0].geonameid == 163476 and found[1] is Spelling.SOUNDED


def test_of_places_one_key_shares_the_one_spelled_alike_wins(detector: Detector) -> None:
    index = detector.compiled.places
    mayadin = index.lookup(fold_phrase("Эль-Маядином").split(" "))
    assert mayadin is not None and mayadin[0].name == "Al Mayādīn"  # not Al Madīnah, the same "lmdn"
