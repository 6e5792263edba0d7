"""Round 21 of the detection work (studied on detect_blind23's errors): one case per mechanism, in
words written here, plus the near-miss each must leave alone. The phrases are checked without the
second reader, which would otherwise cover for some of them."""

from __future__ import annotations

import pytest

from bot.posts import Post
from bot.rules import Detector


@pytest.fixture(scope="module")
def phrases(detector: Detector) -> Detector:
    return Detector(detector.compiled, without_reader=True)


def fallen(detector: Detector, text: str) -> list[int]:
    return [m.geonameid for m in detector.detect(Post(id="t", text=text)) if m.rule == "city-fallen"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Arabic short vowels inside a word no longer split it: "طُرِدَ" is "طرد", expelled
        ("طُرِدَ مسلحو داعش من مدينة هيت بعد معارك استمرت يومين", [95788]),
        ("قوات الجيش حَرَّرَت مدينة الرطبة بالكامل", [98677]),
        # a part taken besides the town, joined by "and", does not make it partial
        ("The Taliban took Bamyan and its airport without a fight", [1147242]),
        ("طالبانو د بامیانو ښار او د هغه هوايي ډګر ونیول", [1147242]),
        # new verbs: wrest, récupérer, lost (потерять, втратити), sweep (تجتاح), took it over (تسلمتها)
        ("Rebels wrested Saraqib from government forces after a night of heavy fighting", [164816]),
        ("L'armée malienne a récupéré Kidal, bastion des rebelles touareg depuis 2012", [2455290]),
        ("Армия Мьянмы потеряла Лашо, признали в военном совете", [1314759]),
        ("Сили хунти втратили Лашо після тижня боїв", [1314759]),
        ("قوات الدعم السريع تجتاح مدينة بارا وسط نزوح السكان", [377724]),
        ("دخلت قوات العشائر مدينة هيت صباحاً وتسلمتها دون مقاومة", [95788]),
        # spellings: Bulo Burte, النهود, Марави, جبرئیل beside a town word
        ("Somali forces captured Bulo Burte from al-Shabaab on Tuesday", [63689]),
        ("قوات الدعم السريع تسيطر على النهود بعد انسحاب الجيش", [378699]),
        ("Филиппинская армия объявила Марави освобождённым от боевиков", [1701053]),
        ("ارتش آذربایجان شهر جبرئیل را پس گرفت. مردم در باکو جشن گرفتند.", [148141]),
        # a dateline names where the news comes from, unless "the city" then points back to it
        ("خبر از هرات: طالبان کنترل ولسوالی کرخ را به دست گرفتند", [1137807]),
        ("نخست‌وزیر عراق از تکریت: شهر به‌طور کامل از داعش پس گرفته شد", [90150]),
    ],
)
def test_round21_reports_are_found_at_their_town(phrases: Detector, text: str, expected: list[int]) -> None:
    assert fallen(phrases, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # microdistricts and security precincts are parts of a town
        "Russian forces now hold two microdistricts of Pokrovsk, the Ukrainian army says",
        "طالبانو د کندز ښار دوه امنیتي حوزې ونیولې",
        # "выдумка" (a fabrication) denies
        "Генштаб назвал выдумкой сообщения о взятии Купянска",
        # a town word before an unknown name: 'the city' is that name, not the town of the next sentence
        "ارتش آذربایجان شهر فلان‌آباد را پس گرفت. مردم در باکو جشن گرفتند.",
        # a part joined by "and" to a part: still no town taken
        "Rebels seized the airport and half of Kunduz",
    ],
)
def test_round21_near_misses_stay_silent(phrases: Detector, text: str) -> None:
    assert fallen(phrases, text) == []
