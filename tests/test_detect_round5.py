"""Round 5's mechanisms on posts of their own (the probe holds more): each a rule of language."""

from __future__ import annotations

import pytest

from bot.posts import Post
from bot.rules import Detector


def fallen(detector: Detector, text: str) -> set[str]:
    post = Post(id="t", text=text, created_at=None)
    return {m.location for m in detector.detect(post) if m.rule == "city-fallen"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an entered place is what a later phrase with its own reference speaks of
        ("Forces entered Kunduz and took full control of it.", {"Kunduz"}),
        ("الفصائل تدخل حمص وتعلن تحريرها من قوات النظام", {"Homs"}),
        # 'the capital of' a region we do not know names no town
        ("Армия взяла столицу Оромии без боя.", set()),
        ("Армия взяла столицу Тыграя без боя.", {"Mek'ele"}),  # a region the alias file knows: its capital
        # a verb and its preposition with the driven-out side between them
        ("Сирийская армия выбила ИГ из Пальмиры.", {"Tadmur"}),
        # a share in per cent is partial control
        ("Russian troops hold 60% of Kupiansk, officials say.", set()),
        # 'after its fall' is background
        ("الأهالي يعودون إلى حلب بعد سقوطها بأسابيع", set()),
    ],
)
def test_round5_mechanisms(detector: Detector, text: str, expected: set[str]) -> None:
    assert fallen(detector, text) == expected
