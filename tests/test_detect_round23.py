"""Round 23 of the detection work (studied on detect_blind25's errors): one case per mechanism, in
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
        # verbs: running the town, "est occupé", يخسر (loses), "відбили у бойовиків", "له … څخه پاک شو"
        ("Residents say ISWAP fighters have been running the town of Dikwa since Monday night", [2344854]),
        ("Rutshuru-centre est occupé depuis ce matin par le M23", [206047]),
        ("الجيش الصومالي يخسر مدينة قوريولي أمام مقاتلي الشباب", [52867]),
        ("Сили АТО відбили у бойовиків Костянтинівку", [705104]),
        ("د جرابلس ښارګوټی له داعش څخه پاک شو", [169179]),
        # spellings: السوكي, عنه beside a town word
        ("قوات الجيش تسترد السوكي وتتقدم نحو سنجة", [378271]),
        ("القوات العراقية تعلن تحرير مدينة عنه من داعش", [6765385]),
        # a hedge that names its own next target ("and press on towards Mekelle") leaves this town taken
        ("Федеральні війська взяли Аксум і продовжують наступ на Мекеле", [344420]),
        # "fears for the ruins" after a capture is no fear of a fall; a region's name is no town abroad
        ("La prise de Palmyre par l'EI cette nuit fait craindre pour les vestiges antiques", [163808]),
        ("Сирийская армия вытеснила боевиков из Каламуне и заняла Ябруд", [162627]),
    ],
)
def test_round23_reports_are_found_at_their_town(phrases: Detector, text: str, expected: list[int]) -> None:
    assert fallen(phrases, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # soldiers who left toward Herat: "د هرات پر لور" is where they went
        "طالبانو د هرات پر لور ووتلي سرتېري ونیول",
        # fearing a fall, classes resuming, a district of a city, a denial with "allegedly"
        "Le blocus fait craindre que Nioro du Sahel ne tombe d'ici peu",
        "Les cours reprennent à l'université de Goma malgré la présence du M23",
        "Армия отбила у боевиков восточный район Алеппо",
        "اوکرایني پوځ دا ادعا رده کړه چې ګواکې روسانو کوپیانسک نیولی",
    ],
)
def test_round23_near_misses_stay_silent(phrases: Detector, text: str) -> None:
    assert fallen(phrases, text) == []
