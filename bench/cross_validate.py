"""Cross-validation of the second reader: each held-out corpus scored by a model trained without it.

    pip install -e '.[train]'
    python bench/cross_validate.py --hold-out tests/data/detect_blind7.jsonl tests/data/detect_blind9.jsonl \\
        [--veto 0.05 0.3] [--report 0.6 0.7] [--post-c 10 30]

For each held-out file and each --post-c, bench/train_reader.py trains a model on every other corpus of
tests/data (a minute or so each); then every pair of --veto and --report lines is scored on that file
with the bundled rules, as bench/detect_quality.py scores (city-fallen only). It prints, per setting,
each file's precision / recall and the files pooled. The phrases of rules.yaml were tuned on these
files once they were spent, so the figures say how to set the reader, not what unseen text will score:
that is a fresh blind set's first score.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.detect_quality import evaluate, read_corpora  # noqa: E402
from bot.rules import compile_rules, load_rules  # noqa: E402
from bot.rules.engine import Detector  # noqa: E402
from bot.rules.reader import load_reader  # noqa: E402
from bot.rules.schema import ReaderUse  # noqa: E402


def _ratio(c: Counter[str]) -> str:
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
    return f"{precision:.3f} / {recall:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hold-out", nargs="+", required=True, help="corpora scored one by one")
    parser.add_argument("--veto", nargs="+", type=float, default=[0.3])
    parser.add_argument("--report", nargs="+", type=float, default=[0.7])
    parser.add_argument("--post-c", nargs="+", type=float, default=[30.0])
    parser.add_argument("--rules", type=Path, default=REPO / "rules.yaml")
    args = parser.parse_args()
    rules = load_rules(args.rules)
    places = compile_rules(rules).places  # built or read once, shared by every setting
    train = [sys.executable, str(REPO / "bench" / "train_reader.py")]
    pooled: dict[tuple[float, float, float], Counter[str]] = {}
    lines: dict[tuple[float, float, float], list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for (name, rows), path in zip(read_corpora(args.hold_out), args.hold_out, strict=True):
            for c in args.post_c:
                model = Path(tmp) / f"{name}.{c}.json.gz"
                options = ["--exclude", path, "--out", str(model), "--post-c", str(c)]
                subprocess.run([*train, *options], check=True, stdout=subprocess.DEVNULL)
                reader = load_reader(model)
                for veto in args.veto:
                    for report in args.report:
                        use = ReaderUse(veto_below=veto, report_above=report)
                        edited = [r.model_copy(update={"reader": r.reader and use}) for r in rules.rules]
                        compiled = compile_rules(rules.model_copy(update={"rules": edited}), places)
                        counts, _ = evaluate(Detector(compiled, reader=reader), rows)
                        key = (c, veto, report)
                        pooled.setdefault(key, Counter()).update(counts["all"])
                        lines.setdefault(key, []).append(f"{name} {_ratio(counts['all'])}")
    print(f"{'C':>5} {'veto':>5} {'report':>6}  pooled precision / recall  (each file)")
    for key, c in pooled.items():
        print(f"{key[0]:>5g} {key[1]:>5g} {key[2]:>6g}  {_ratio(c)}  ({'; '.join(lines[key])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
