"""Train the second reader (bot/rules/reader.py) on the labelled corpora and write its model file.

    pip install -e '.[train]'
    python bench/train_reader.py [--corpus GLOB ...] [--exclude GLOB ...] [--out FILE]

(--out defaults to bot/rules/data/reader.json.gz, the model the bot loads.)

Two logistic regressions (scikit-learn), on features computed by bot/rules/reader.py itself, so the
bot scores a post exactly as training saw it:
- the post model: every labelled post, report (label true) or not;
- the place model: every place named in a report, the labelled one against the others.
A blind set must be left out (`--exclude`) until its first score is recorded: the model's figures on
a file it was trained on say nothing. The output is deterministic for the same corpora.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import math
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.posts import Post  # noqa: E402
from bot.rules import compile_rules, load_rules  # noqa: E402
from bot.rules.engine import Detector  # noqa: E402
from bot.rules.reader import FORMAT, MODEL_PATH, post_features  # noqa: E402
from bot.rules.text import fold_phrase  # noqa: E402

MIN_DOCUMENTS = 2  # a feature seen in one post only says nothing of the next
# Weak regularisation: the letter runs are many and each weighs little. 30 cross-validated a little
# better than 10 over blind7 to blind11 (0.910 / 0.901 against 0.903 / 0.899), but once blind13 joined
# the training it was sure enough of single words to veto "The Taliban captured Kunduz, Sar-e Pul and
# Taloqan within three days." (0.011); at 10 that post scores 0.027 and keeps its match.
POST_C = 10.0
PLACE_C = 1.0
DIGITS = 6
EVERYDAY_LANGUAGES = ("en", "fr", "ru", "uk", "ar", "fa")
EVERYDAY_WORDS = 3000
GATE_MIN_WEIGHT = 0.05  # a word must weigh at least this towards a report to open the gate


def _everyday_words() -> frozenset[str]:
    """The most common words of the languages wordfreq knows (not Pashto): 'of', 'و', 'в' stand in
    most posts of a stream, so a gate word among them would let every post through."""
    from wordfreq import top_n_list

    return frozenset(fold_phrase(w) for lang in EVERYDAY_LANGUAGES for w in top_n_list(lang, EVERYDAY_WORDS))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", nargs="+", default=[str(REPO / "tests" / "data" / "detect_*.jsonl")])
    parser.add_argument("--exclude", nargs="*", default=[], help="files or globs left out (blind sets)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--post-c", type=float, default=POST_C, help="the post model's C")
    args = parser.parse_args()
    try:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        sys.exit("training needs scikit-learn: pip install -e '.[train]'")

    excluded = {Path(p).resolve() for pattern in args.exclude for p in glob.glob(pattern)}
    files = sorted(
        {Path(p).resolve() for pattern in args.corpus for p in glob.glob(pattern)} - excluded, key=str
    )
    rows = [
        json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if not rows:
        sys.exit("no labelled posts found")
    # The bundled rules without the reader: only their place finder is used here.
    detector = Detector(compile_rules(load_rules(REPO / "rules.yaml")), without_reader=True)

    posts = [detector.places_named(Post.model_validate(r)) for r in rows]
    labels = [bool(r["label"]) for r in rows]

    # --- the post model -----------------------------------------------------------------------
    features = [post_features(words) for words, _ in posts]
    groups = sorted(features[0])
    blocks, tables = [], {}
    for g in groups:
        df = Counter(f for feats in features for f in feats[g])
        vocab = sorted(f for f, n in df.items() if n >= MIN_DOCUMENTS)
        index = {f: i for i, f in enumerate(vocab)}
        idf = [math.log((1 + len(rows)) / (1 + df[f])) + 1 for f in vocab]
        data, cols, ptr = [], [], [0]
        for feats in features:
            values = [(index[f], n * idf[index[f]]) for f, n in feats[g].items() if f in index]
            length = math.sqrt(sum(n * idf[index[f]] ** 2 for f, n in feats[g].items() if f in index)) or 1.0
            cols += [i for i, _ in values]
            data += [v / length for _, v in values]
            ptr.append(len(cols))
        blocks.append(csr_matrix((data, cols, ptr), shape=(len(rows), len(vocab))))
        tables[g] = (vocab, idf)
    post_model = LogisticRegression(C=args.post_c, max_iter=5000, class_weight="balanced")
    post_model.fit(hstack(blocks).tocsr(), labels)
    coef, at, post_groups = post_model.coef_[0], 0, {}
    for g in groups:
        vocab, idf = tables[g]
        post_groups[g] = {
            f: [round(idf[i], DIGITS), round(float(coef[at + i]), DIGITS)]
            for i, f in enumerate(vocab)
            if round(float(coef[at + i]), DIGITS) != 0.0
        }
        at += len(vocab)

    # --- the place model ----------------------------------------------------------------------
    place_rows, place_labels = [], []
    for row, (_, named) in zip(rows, posts, strict=True):
        if not row["label"] or not named:
            continue
        for place, candidate in named:
            place_rows.append(candidate)
            place_labels.append(place.geonameid == row["geonameid"])
    place_vocab = sorted({f for cand in place_rows for f in cand})
    place_index = {f: i for i, f in enumerate(place_vocab)}
    cols = [place_index[f] for cand in place_rows for f in cand]
    ptr = [0]
    for cand in place_rows:
        ptr.append(ptr[-1] + len(cand))
    matrix = csr_matrix(([1.0] * len(cols), cols, ptr), shape=(len(place_rows), len(place_vocab)))
    place_model = LogisticRegression(C=PLACE_C, max_iter=5000).fit(matrix, place_labels)
    place_weights = {
        f: round(float(w), DIGITS)
        for f, w in zip(place_vocab, place_model.coef_[0], strict=True)
        if abs(w) > 1e-6
    }

    # --- the gate: the words the post model counts towards a report, everyday words aside -------
    everyday = _everyday_words()
    gate = sorted(
        w
        for w, (_, c) in post_groups["words"].items()
        if " " not in w and c >= GATE_MIN_WEIGHT and w not in everyday and not w.isdigit()
    )
    report_words = [set(words) for (words, _), label in zip(posts, labels, strict=True) if label]
    reached = sum(1 for words in report_words if not words.isdisjoint(gate))

    model = {
        "format": FORMAT,
        "trained_on": [{"file": f.name, "posts": sum(1 for _ in f.open(encoding="utf-8"))} for f in files],
        "post": {"intercept": round(float(post_model.intercept_[0]), DIGITS), "groups": post_groups},
        "place": {"intercept": round(float(place_model.intercept_[0]), DIGITS), "weights": place_weights},
        "gate": sorted(gate),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", mtime=0) as fh:
        fh.write(json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    print(
        f"{args.out}: {len(rows)} posts from {len(files)} files; post model "
        + ", ".join(f"{g} {len(post_groups[g])}" for g in groups)
        + f" features; place model {len(place_weights)} features on {len(place_rows)} candidates;"
        f" gate {len(gate)} words reach {reached} of {len(report_words)} reports;"
        f" {args.out.stat().st_size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
