"""Precision and recall of the bundled rules on the hand-labelled corpus, overall and per language.

    python bench/detect_quality.py [--rules rules.yaml] [--corpus tests/data/detect_corpus.jsonl] [--errors]

A post counts as a true positive only when the labelled place is among its matches; a match on a
negative, or on the wrong place, is a false positive. Targets (issue 2): precision >= 0.95 and
recall >= 0.90 overall, no language below 0.80.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.posts import Post  # noqa: E402
from bot.rules import compile_rules, load_rules  # noqa: E402
from bot.rules.engine import Detector  # noqa: E402


def evaluate(detector: Detector, rows: list[dict[str, object]]) -> tuple[dict[str, Counter[str]], list[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for row in rows:
        post = Post.model_validate(row)
        lang = str(row["id"]).split("-")[-2]  # ids look like en-012 or h-en-012
        found = {m.geonameid for m in detector.detect(post)}
        expected = row.get("geonameid")
        for key in (lang, "all"):
            c = counts[key]
            if row["label"]:
                c["tp" if expected in found else "fn"] += 1
                if found - {expected}:
                    c["fp"] += 1
            elif found:
                c["fp"] += 1
        if (row["label"] and expected not in found) or (found - {expected}):
            got = sorted(found, key=str)
            errors.append(f"{row['id']} [{row.get('family')}] expected {expected} got {got}: {row['text']}")
    return counts, errors


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=Path, default=REPO / "rules.yaml")
    parser.add_argument("--corpus", type=Path, default=REPO / "tests" / "data" / "detect_corpus.jsonl")
    parser.add_argument("--errors", action="store_true", help="list every post the rules got wrong")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    detector = Detector(compile_rules(load_rules(args.rules)))
    counts, errors = evaluate(detector, rows)
    print(f"corpus: {args.corpus.name}, {len(rows)} posts")
    print(f"{'lang':<6}{'posts':>7}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}")
    for lang in sorted(counts, key=lambda k: (k == "all", k)):
        c = counts[lang]
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        posts = sum(1 for r in rows if lang == "all" or str(r["id"]).split("-")[-2] == lang)
        print(f"{lang:<6}{posts:>7}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}{precision:>11.3f}{recall:>8.3f}")
    if args.errors:
        print("\n".join(["", "errors:", *errors]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
