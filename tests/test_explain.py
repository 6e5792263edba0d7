"""`frontwatch explain`: what a rules editor sees when asking why a text matched or not."""

from __future__ import annotations

import io

import pytest

from bot.cli import main


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["explain", *args]) == 0
    out: str = capsys.readouterr().out
    return out


def test_explain_shows_the_trigger_the_place_and_the_match(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Kunduz has fallen to the Taliban.")
    assert "trigger 'has fallen'" in out
    assert "candidate 'Kunduz' at 0-6 -> Kunduz: matched" in out
    assert "matches: city-fallen (fallen): Kunduz [1135689, AF], actor Taliban" in out


def test_explain_names_the_cue_that_cancelled_a_trigger(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "The army denies that Kunduz has fallen.")
    assert "cue 'denies' (denial, every rule)" in out
    assert "cancelled: cue 'denies' (denial) in the same sentence" in out
    assert "matches: none" in out


def test_explain_says_a_name_is_a_province_not_the_city(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Taliban captured Kunduz province.")
    assert "rejected (a region word after the name" in out


def test_explain_says_when_a_gap_blocker_stopped_the_walk(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Rebels captured villages near Kunduz.")
    assert "walk forward stopped: gap blocker 'villages'" in out


def test_explain_says_a_name_on_the_wrong_side_is_not_the_place(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Zorgoville: rebels captured.")
    assert "'Zorgoville' at 0: wrong side (the phrase wants the place after it)" in out


def test_explain_says_a_name_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Rebels captured Zorgoville overnight.")
    assert "'Zorgoville' at 16: name unknown to the gazetteer" in out


def test_explain_reads_one_text_per_line_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Herat has fallen.\nPrices fell in Kabul.\n"))
    out = explain(capsys, "-")
    assert out.count("sentence 1:") == 2
    assert "Herāt [1140026, AF]" in out and "cancelled: cue 'Prices' (other_sense)" in out


def test_explain_of_a_text_without_triggers_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Lovely weather in Kabul today.")
    assert "no trigger phrase" in out and "matches: none" in out


def test_explain_says_a_name_beyond_a_gap_blocker_was_not_reached(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "Rebels captured villages near Kunduz.")
    assert "'Kunduz' at 30: not reached: the walk stopped before it" in out
    assert "'Kunduz' at 30: name unknown" not in out
