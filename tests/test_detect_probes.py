"""The detection rounds' held-out probes (tests/data/detect_round<N>_probe.jsonl): for each kind of
miss or false alarm studied on a spent blind set (field `kind`), posts written afresh, in other
languages or other words than the blind set's, so a fix that only fitted that set's sentences shows
here. Round 3 studied detect_blind4 (three posts a kind), round 4 detect_blind5 (two a kind), round 5
detect_blind6 by mechanism (five mechanisms, about two posts a language for each where it applies)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.detect_quality import evaluate
from bot.posts import Post
from bot.rules import Detector
from tests.conftest import REPO

POSTS_PER_KIND = {3: 3, 4: 2, 5: 8}


def probe(round_: int) -> list[dict[str, object]]:
    path = REPO / "tests" / "data" / f"detect_round{round_}_probe.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


ROWS = [row for round_ in POSTS_PER_KIND for row in probe(round_)]


@pytest.mark.parametrize("round_", POSTS_PER_KIND)
def test_each_probe_has_its_posts_for_every_kind(round_: int) -> None:
    kinds = Counter(str(row["kind"]) for row in probe(round_))
    assert kinds and all(n >= POSTS_PER_KIND[round_] for n in kinds.values()), kinds


@pytest.mark.parametrize("row", ROWS, ids=[str(row["id"]) for row in ROWS])
def test_each_probe_post_is_read_as_labelled(detector: Detector, row: dict[str, object]) -> None:
    matches = [m for m in detector.detect(Post.model_validate(row)) if m.rule == "city-fallen"]
    found = {m.geonameid for m in matches}
    assert found == ({row["geonameid"]} if row["label"] else set()), f"{row['kind']}: {row['text']}"


@pytest.mark.parametrize("round_", POSTS_PER_KIND)
def test_each_probe_names_the_taker_when_it_is_known(detector: Detector, round_: int) -> None:
    counts, _ = evaluate(detector, probe(round_))
    total = counts["all"]
    assert total["actor_ok"] / total["actor_rows"] >= 0.8
