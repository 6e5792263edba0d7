"""Round 22 of the detection work (studied on detect_blind24's errors): one case per mechanism, in
words written here, plus the near-misses it must leave alone. Checked on the phrases alone."""

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
        # after "ولسوالی X" the region word names the next name's province, not X's
        ("ولسوالی فرخار ولایت تخار پس از دو روز جنگ سقوط کرد", [1142239]),
        # "د <province> د <district> ولسوالۍ": the first name is the province
        ("د تخار د فرخار ولسوالۍ مرکز طالبانو ونیو", [1142239]),
        # Pashto "ته" after a pronoun or a group: who the town was left to
        ("والي ترینکوټ یې هغوی ته پرېښود او کندهار ته لاړ", [1122747]),
        # a Cyrillic form that spells a town abroad and a focus-country town declined: the latter
        ("Армия Судана вернула себе Сингу после долгих боёв", [366847]),
        # verbs: حرروا, occuper, "ازاد شوی", "از دست … بیرون آمد"
        ("مقاتلو المعارضة حرروا مدينة نوى في ريف درعا", [166365]),
        ("Le M23 occupe Kirumba depuis samedi matin", [212760]),
        ("روسي چارواکي وايي لیسیچانسک په بشپړ ډول ازاد شوی", [702972]),
        ("مقامات محلی: شهر طبقه به طور کامل از دست داعش بیرون آمد", [172374]),
    ],
)
def test_round22_reports_are_found_at_their_town(phrases: Detector, text: str, expected: list[int]) -> None:
    assert fallen(phrases, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # fears of a fall, a promise, a task: no fall yet
        "مخاوف من سقوط مدينة ميناكا بيد التنظيم خلال أيام",
        "قوماندان ژمنه وکړه چې الابیض به ډېر ژر د دوی لاس ته ورشي",
        "Командование поставило задачу взять Триполи до весны",
        # the old city is a quarter
        "المقاتلون يطردون التنظيم من المدينة القديمة في الرقة",
        "Rebels seized the old city of Homs overnight",
    ],
)
def test_round22_near_misses_stay_silent(phrases: Detector, text: str) -> None:
    assert fallen(phrases, text) == []


def test_fears_for_civilians_after_a_report_cancel_nothing(phrases: Detector) -> None:
    # "fears for the civilians" is about something else than the fall the post reports
    text = "الدعم السريع يسيطر على مدينة الفاشر بعد حصار طويل، ومخاوف على المدنيين داخلها"
    assert fallen(phrases, text) == [379555]
