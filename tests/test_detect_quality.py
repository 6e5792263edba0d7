"""The bundled rules on the hand-labelled corpus (tests/data): quality must not slip below the targets."""

from __future__ import annotations

import json

from bench.detect_quality import evaluate
from bot.rules import Detector
from tests.conftest import REPO


def test_bundled_rules_keep_precision_and_recall_on_the_labelled_corpus(detector: Detector) -> None:
    rows = [
        json.loads(line) for line in (REPO / "tests/data/detect_corpus.jsonl").read_text("utf-8").splitlines()
    ]
    counts, errors = evaluate(detector, rows)
    total = counts["all"]
    precision = total["tp"] / (total["tp"] + total["fp"])
    recall = total["tp"] / (total["tp"] + total["fn"])
    assert precision >= 0.95 and recall >= 0.90, "\n".join(errors)
    for lang in ("en", "fa", "ps", "ar", "ru", "uk", "fr"):
        c = counts[lang]
        assert c["tp"] / (c["tp"] + c["fn"]) >= 0.8, f"{lang} recall below 0.8:\n" + "\n".join(errors)
        assert c["tp"] / (c["tp"] + c["fp"]) >= 0.8, f"{lang} precision below 0.8:\n" + "\n".join(errors)
