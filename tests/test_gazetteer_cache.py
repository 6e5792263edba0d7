"""The place index cached on disk: a file that cannot run code, checked before it is trusted, written so
that no process ever reads half of it, and a cold start that says why it takes a while."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import pytest

from bot.rules import gazetteer
from bot.rules.aliases import ALIASES_PATH, load_aliases
from bot.rules.gazetteer import Place, PlaceIndex, place_index
from bot.rules.schema import Gazetteer

CONFIG = Gazetteer(min_population=15000, countries={"AF": 5000})
BUILDING = "building the place index (once, about 25 s)…"


def tiny_index() -> PlaceIndex:
    return PlaceIndex(
        places=[Place(1_135_689, "Kunduz", "AF", 268_893), Place(None, "Qala-e Zal", "AF", 0)],
        names={"kunduz": (0,), "qala e zal": (1,), "кундуз": (0,)},
        stems={"кундуз": (0,)},
        needs_capital=frozenset({"zal"}),
        max_words=3,
        provinces={"kunduz": 0},
        countries={"afghanistan": "AF"},
    )


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FRONTWATCH_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the ~10 s compilation with the tiny index; record each call with the log lines before it."""
    calls: list[str] = []

    def compile_index(config: Gazetteer) -> PlaceIndex:
        calls.append(config.model_dump_json())
        return tiny_index()

    monkeypatch.setattr(gazetteer, "compile_index", compile_index)
    return calls


class Planted:
    """What an attacker writes into the cache: unpickling it creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_the_place_index_comes_back_from_the_cache_as_it_was_built(
    cache_dir: Path, compiles: list[str]
) -> None:
    assert place_index(CONFIG) == tiny_index()
    assert place_index(CONFIG) == tiny_index()
    assert len(compiles) == 1, "the second start compiled again instead of reading the cache"


def test_a_planted_pickle_in_the_cache_never_runs_and_the_index_is_rebuilt(
    cache_dir: Path, compiles: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    marker = cache_dir / "pwned"
    path = gazetteer._cache_path(CONFIG)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(Planted(marker)))
    with caplog.at_level(logging.INFO, logger="bot.rules.gazetteer"):
        assert place_index(CONFIG) == tiny_index()
    assert not marker.exists(), "the planted cache file ran code"
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "rebuilding" in record.getMessage()
    assert len(compiles) == 1
    assert place_index(CONFIG) == tiny_index() and len(compiles) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-5] + (b"7" if data[-5:-4] != b"7" else b"8") + data[-4:],  # one byte changed
        lambda data: data.replace(b'"version":', b'"version":1', 1),  # another version
        lambda data: b"\x00\xff" * 100,  # not ours at all
        lambda data: b"",
    ],
    ids=["truncated", "one-byte-changed", "other-version", "binary", "empty"],
)
def test_a_corrupt_or_foreign_cache_file_is_ignored_and_rebuilt_with_one_log_line(
    cache_dir: Path, compiles: list[str], caplog: pytest.LogCaptureFixture, damage: object
) -> None:
    place_index(CONFIG)
    path = gazetteer._cache_path(CONFIG)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.rules.gazetteer"):
        assert place_index(CONFIG) == tiny_index()
    [record] = caplog.records
    assert record.levelno == logging.WARNING and str(path) in record.getMessage()
    assert len(compiles) == 2


def test_a_cold_start_says_it_is_building_the_place_index_before_the_wait(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    said_before: list[list[str]] = []

    def compile_index(config: Gazetteer) -> PlaceIndex:
        said_before.append([r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING])
        return tiny_index()

    monkeypatch.setattr(gazetteer, "compile_index", compile_index)
    with caplog.at_level(logging.INFO, logger="bot.rules.gazetteer"):
        place_index(CONFIG)
        assert said_before == [[BUILDING]]
        caplog.clear()
        place_index(CONFIG)
    assert caplog.records == [], "a warm start said something"


def test_the_cache_file_appears_only_complete_and_a_failed_write_leaves_nothing(
    cache_dir: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = gazetteer._cache_path(CONFIG)
    seen_at_rename: list[PlaceIndex] = []
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        assert Path(dst) == path and not path.exists()
        seen_at_rename.append(gazetteer.read_cache(Path(src)))  # complete before it gets its name
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    place_index(CONFIG)
    assert seen_at_rename == [tiny_index()]

    path.unlink()

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    assert place_index(CONFIG) == tiny_index()
    assert list(cache_dir.iterdir()) == [], "a failed write left a file behind"


def test_a_place_listed_twice_in_the_alias_file_is_refused_with_its_line(tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.yaml"
    listed_twice = "places:\n  1133616: [Mazar]\n  1135689: [Kondoz]\n  1133616: [Mazār]\n"
    aliases.write_text(listed_twice, encoding="utf-8")
    with pytest.raises(ValueError, match=r"aliases.yaml:4: '1133616' is listed twice"):
        load_aliases(aliases)


def test_the_bundled_alias_file_lists_each_place_once() -> None:
    assert load_aliases(ALIASES_PATH).places
