"""Every bundled language detects a report, and the post's language is reported for subscriptions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.rules import Match


@pytest.mark.parametrize(
    ("text", "lang", "geonameid"),
    [
        ("The Taliban have taken control of Kandahar, officials confirmed.", "en", 1138336),
        ("شهر قندهار به دست طالبان سقوط کرد و نیروهای دولتی عقب‌نشینی کردند.", "fa", 1138336),
        ("کندهار ښار د طالبانو لاس ته ولوېد او والي ښار پرېښود.", "ps", 1138336),
        ("سيطرت قوات الدعم السريع على مدينة ود مدني بعد انسحاب الجيش.", "ar", 364103),
        ("Российские войска полностью захватили Авдеевку.", "ru", 713122),
        ("Окупанти захопили Бахмут після місяців боїв.", "uk", 713174),
        ("Les rebelles du M23 ont pris le contrôle de Goma.", "fr", 216281),
    ],
)
def test_each_language_detects_a_report_and_names_its_language(
    detect: Callable[..., list[Match]], text: str, lang: str, geonameid: int
) -> None:
    matches = detect(text, lang=None)
    assert [(m.geonameid, m.lang, m.rule) for m in matches] == [(geonameid, lang, "city-fallen")]
    assert 0.5 <= matches[0].confidence <= 1.0


def test_the_posts_own_language_label_wins(detect: Callable[..., list[Match]]) -> None:
    assert detect("Kunduz has fallen to the Taliban.", lang="en")[0].lang == "en"
    assert detect("Kunduz has fallen to the Taliban.", lang="und")[0].lang == "en"


def test_pashto_text_is_reported_as_pashto_though_langdetect_has_no_pashto(
    detect: Callable[..., list[Match]],
) -> None:
    matches = detect("طالبانو د کندز ښار ونیو.", lang=None)
    assert [m.lang for m in matches] == ["ps"]


def test_triggers_of_another_language_in_the_same_script_still_match(
    detect: Callable[..., list[Match]],
) -> None:
    # A Persian phrasing labelled Pashto by the network: triggers are never gated on the label.
    matches = detect("شهر کندز سقوط کرد.", lang="ps")
    assert [(m.geonameid, m.lang) for m in matches] == [(1135689, "ps")]


def test_the_same_text_always_gets_the_same_language(detect: Callable[..., list[Match]]) -> None:
    text = "Kunduz has fallen"
    assert len({detect(text)[0].lang for _ in range(5)}) == 1
