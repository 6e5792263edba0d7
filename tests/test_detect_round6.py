"""Round 6 of the detection work (studied on detect_blind7's errors, by kind): one case per mechanism,
in words written here, plus the near-miss each mechanism must leave alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.rules import Match


def fallen(detect: Callable[..., list[Match]], text: str) -> set[str]:
    return {m.location for m in detect(text) if m.rule == "city-fallen"}


@pytest.mark.parametrize(
    ("text", "location"),
    [
        # 'the city' with no place before it refers forward to the first place named
        ("The province's largest city is now under rebel control. Soldiers in Kunduz fled.", "Kunduz"),
        # "<province> capital" is the province's capital
        ("Fighters sit in the governor's office. The Helmand capital is in their hands.", "Lashkar Gāh"),
        # Arabic control nouns with a possessive ending: under our / their control, in our grip
        ("الفصائل تعلن: مدينة حماة بالكامل تحت سيطرتنا منذ فجر اليوم", "Ḩamāh"),
        ("قوات الدعم السريع: الفاشر أصبحت في قبضتنا", "El Fasher"),
        # Dari and Pashto spell control کنترول / کنټرول as well as کنترل
        ("شهر قندوز به کنترول طالبان درآمد و نیروهای دولتی عقب نشستند", "Kunduz"),
        # Pashto's "که" (if) is Persian's relative "that": no hedge in a post without Pashto letters
        ("والی گفت که شهر فراه به تصرف طالبان درآمد", "Farah"),
    ],
)
def test_round6_reports_are_found(detect: Callable[..., list[Match]], text: str, location: str) -> None:
    assert location in fallen(detect, text)


@pytest.mark.parametrize(
    "text",
    [
        # an unknown name beside the trigger: 'the city' describes it, it does not point forward
        ("Rebels took Qwertyabad — the city where the uprising began. The army withdrew to Damascus."),
        # Persian pluperfect in a relative clause is background; "شاید" (maybe) is a hedge
        "در قندوز که ماه پیش به دست طالبان سقوط کرده بود، امروز مدارس باز شدند",
        "مردم می‌گویند شهر قندوز شاید در روزهای آینده سقوط کند",
        # Pashto "که" (if) still hedges a Pashto post
        "که طالبان کندهار ونیسي، جګړه به لا پراخه شي",
    ],
)
def test_round6_near_misses_stay_quiet(detect: Callable[..., list[Match]], text: str) -> None:
    assert fallen(detect, text) == set()
