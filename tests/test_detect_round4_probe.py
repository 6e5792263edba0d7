"""Round 4's held-out probe (tests/data/detect_round4_probe.jsonl): for each kind of miss or false
alarm studied on detect_blind5 (field `kind`), two posts written afresh, in other languages or other
words than any blind5 post, so a fix that only fitted blind5's sentences shows here."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.detect_quality import evaluate
from bot.posts import Post
from bot.rules import Detector
from tests.conftest import REPO

PROBE = REPO / "tests" / "data" / "detect_round4_probe.jsonl"
ROWS = [json.loads(line) for line in PROBE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_probe_has_two_posts_per_kind() -> None:
    kinds = Counter(str(row["kind"]) for row in ROWS)
    assert kinds and all(n >= 2 for n in kinds.values()), kinds


@pytest.mark.parametrize("row", ROWS, ids=[str(row["id"]) for row in ROWS])
def test_each_probe_post_is_read_as_labelled(detector: Detector, row: dict[str, object]) -> None:
    matches = [m for m in detector.detect(Post.model_validate(row)) if m.rule == "city-fallen"]
    found = {m.geonameid for m in matches}
    assert found == ({row["geonameid"]} if row["label"] else set()), f"{row['kind']}: {row['text']}"


def test_the_probe_names_the_taker_when_it_is_known(detector: Detector) -> None:
    counts, _ = evaluate(detector, ROWS)
    total = counts["all"]
    assert total["actor_ok"] / total["actor_rows"] >= 0.8
