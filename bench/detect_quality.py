"""Precision and recall of the bundled rules on hand-labelled corpora, overall and per language.

    python bench/detect_quality.py [--rules rules.yaml] [--corpus FILE_OR_GLOB ...] [--errors]

Only the `city-fallen` rule is scored (`--rule` to pick another): a match of an opt-in rule such as
`city-contested` is neither a true nor a false positive. A post counts as a true positive only when
the labelled place is among its matches; a match on a negative, or on the wrong place, is a false
positive. When rows carry an `actor`, the share of found positives whose actor is right is printed
per language. Several corpora (or a glob) are scored one by one, then together.
Targets (issue 9): precision >= 0.93 and recall >= 0.90 overall, no language below 0.85 recall.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.posts import Post  # noqa: E402
from bot.rules import compile_rules, load_rules  # noqa: E402
from bot.rules.engine import Detector  # noqa: E402
from bot.rules.match import Match  # noqa: E402
from bot.rules.reader import load_reader  # noqa: E402
from bot.rules.scan import scan  # noqa: E402
from bot.rules.text import fold, nfc  # noqa: E402

SCORED_RULE = "city-fallen"


def evaluate(
    detector: Detector, rows: list[dict[str, object]], rule: str = SCORED_RULE
) -> tuple[dict[str, Counter[str]], list[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for row in rows:
        post = Post.model_validate(row)
        lang = str(row["id"]).split("-")[-2]  # ids look like en-012, h-en-012 or r-en-012
        matches = [m for m in detector.detect(post) if m.rule == rule]
        found = {m.geonameid for m in matches}
        expected = row.get("geonameid")
        for key in (lang, "all"):
            c = counts[key]
            if row["label"]:
                c["tp" if expected in found else "fn"] += 1
                if found - {expected}:
                    c["fp"] += 1
                _count_actor(c, row, matches, detector)
            elif found:
                c["fp"] += 1
        if (row["label"] and expected not in found) or (found - {expected}):
            got = sorted(found, key=str)
            errors.append(f"{row['id']} [{row.get('family')}] expected {expected} got {got}: {row['text']}")
    return counts, errors


def _count_actor(c: Counter[str], row: dict[str, object], matches: list[Match], detector: Detector) -> None:
    """On a found positive whose row names the actor: whether the match names the same one. A label
    written as the text names the actor ("les FSR", "طالبان") counts as its name in rules.yaml's actor
    list (RSF, Taliban), read by the same actor list the engine uses."""
    if "actor" not in row:
        return
    hit = next((m for m in matches if m.geonameid == row.get("geonameid")), None)
    if hit is None:
        return
    c["actor_rows"] += 1
    label = row["actor"]
    named = _actor_names(detector, label) if isinstance(label, str) else set()
    if hit.actor == label or (hit.actor is not None and hit.actor in named):
        c["actor_ok"] += 1


def _actor_names(detector: Detector, label: str) -> set[str]:
    folded = fold(nfc(label))
    return {m.actor for m in scan(detector.compiled, folded, None, everything=True).actors}


def read_corpora(patterns: list[str]) -> list[tuple[str, list[dict[str, object]]]]:
    corpora = []
    for pattern in patterns:
        paths = sorted(glob.glob(pattern)) or [pattern]
        for path in paths:
            text = Path(path).read_text(encoding="utf-8")
            corpora.append(
                (Path(path).name, [json.loads(line) for line in text.splitlines() if line.strip()])
            )
    return corpora


def print_table(name: str, rows: list[dict[str, object]], counts: dict[str, Counter[str]]) -> None:
    print(f"corpus: {name}, {len(rows)} posts")
    print(f"{'lang':<6}{'posts':>7}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}{'actor':>8}")
    for lang in sorted(counts, key=lambda k: (k == "all", k)):
        c = counts[lang]
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        actor = f"{c['actor_ok'] / c['actor_rows']:.3f}" if c["actor_rows"] else "-"
        posts = sum(1 for r in rows if lang == "all" or str(r["id"]).split("-")[-2] == lang)
        print(
            f"{lang:<6}{posts:>7}{c['tp']:>5}{c['fp']:>5}{c['fn']:>5}{precision:>11.3f}{recall:>8.3f}{actor:>8}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=Path, default=REPO / "rules.yaml")
    parser.add_argument(
        "--corpus",
        nargs="+",
        default=[str(REPO / "tests" / "data" / "detect_corpus.jsonl")],
        help="JSONL files or globs (quote a glob so the shell leaves it alone)",
    )
    parser.add_argument("--rule", default=SCORED_RULE, help="the rule scored (default: city-fallen)")
    parser.add_argument("--errors", action="store_true", help="list every post the rules got wrong")
    parser.add_argument("--reader", type=Path, help="a reader model file other than the bundled one")
    parser.add_argument(
        "--without-reader", action="store_true", help="the phrases alone, as if no rule set `reader:`"
    )
    args = parser.parse_args()
    corpora = read_corpora(args.corpus)
    reader = load_reader(args.reader) if args.reader else None
    detector = Detector(
        compile_rules(load_rules(args.rules)), reader=reader, without_reader=args.without_reader
    )
    everything: list[dict[str, object]] = []
    for name, rows in corpora:
        counts, errors = evaluate(detector, rows, args.rule)
        print_table(name, rows, counts)
        if args.errors:
            print("\n".join(["", "errors:", *errors, ""]))
        everything += rows
    if len(corpora) > 1:
        counts, _ = evaluate(detector, everything, args.rule)
        print_table(f"all {len(corpora)} corpora", everything, counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
