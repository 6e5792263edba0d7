"""The bundled rules on the corpora written from real news phrasing (tests/data/detect_real_*.jsonl),
and every construction docs/phrasing/*.md lists has a labelled example in tests/data."""

from __future__ import annotations

import json
import re

import pytest

from bench.detect_quality import evaluate
from bot.rules import Detector
from tests.conftest import REPO

DATA = REPO / "tests" / "data"
REAL = sorted(DATA.glob("detect_real_*.jsonl"))


def rows_of(path_glob: str) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted(DATA.glob(path_glob))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


@pytest.mark.skipif(not REAL, reason="no detect_real_*.jsonl corpora yet")
def test_bundled_rules_keep_precision_and_recall_on_real_phrasing(detector: Detector) -> None:
    counts, errors = evaluate(detector, rows_of("detect_real_*.jsonl"))
    total = counts["all"]
    precision = total["tp"] / (total["tp"] + total["fp"])
    recall = total["tp"] / (total["tp"] + total["fn"])
    assert precision >= 0.93 and recall >= 0.90, f"{precision:.3f} / {recall:.3f}\n" + "\n".join(errors)


def test_every_construction_in_the_phrasing_study_has_a_labelled_example() -> None:
    listed = {
        m.group(1)
        for doc in (REPO / "docs" / "phrasing").glob("*.md")
        for m in re.finditer(r"^### `([^`]+)`", doc.read_text(encoding="utf-8"), re.MULTILINE)
    }
    seen = {str(row.get("construction")) for row in rows_of("*.jsonl")}
    assert listed, "docs/phrasing/*.md lists no construction"
    assert sorted(listed - seen) == []
