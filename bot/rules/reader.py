"""The second reader: a linear model over a whole post that says how likely it is to report a town's
fall, and which of the places it names is the one.

The rules (triggers, cues, the place walk) read a post phrase by phrase and miss what no phrase of
theirs covers ("Northern Shan's biggest town is now run by the KNU"); the reader weighs every word
and letter group of the post at once. It was trained on the labelled corpora in tests/data by
`python bench/train_reader.py`, which writes its weights to bot/rules/data/reader.json.gz. A rule
that asks for it in rules.yaml (`reader:`) uses it twice:

- a match of the rules whose post the reader scores below `veto_below` is dropped (a history, an
  intention or a partial gain the cues did not catch);
- a post the rules did not match, that the reader scores at or above `report_above`, is reported at
  the place the reader's place model picks among those the post names.

Features (the same function here and in training, so the two cannot drift):
- words: each folded word and each pair of neighbouring words, counted;
- letters: every run of 2 to 5 letters inside a word padded with a space on each side;
  each feature weighs its count times its inverse document frequency (idf), and each group is
  divided by the square root of the sum, over the features the model knows, of count x idf squared:
  a long post is not more likely for being long, and, unlike a vector's length, this scale adds up
  word by word, so a word's share is worked out once per process;
- a candidate place: the words just before and after it, its rank among the places named.
Only features seen in training count (the model file holds their weights); pure Python, no numpy.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable
from functools import cache
from itertools import pairwise, repeat
from pathlib import Path

from bot.rules.text import TOKEN, blank_handles_and_links, fold, nfc

MODEL_PATH = Path(__file__).parent / "data" / "reader.json.gz"
FORMAT = 1
LETTER_RUNS = (2, 3, 4, 5)
CONTEXT_WORDS = 3  # a candidate place's neighbours, each side, by distance
WINDOW_WORDS = 5  # ... and the words around it, as a bag


def post_words(text: str) -> list[str]:
    """The post's words as the reader sees them: folded, handles and links blanked."""
    original = nfc(text)
    return TOKEN.findall(blank_handles_and_links(original, fold(original)))


def post_features(words: list[str]) -> dict[str, Counter[str]]:
    """The features of a post by group ('words', 'letters'), counted."""
    pairs = map(" ".join, pairwise(words))
    return {"words": Counter([*words, *pairs]), "letters": Counter(_letter_runs(words))}


def _letter_runs(words: Iterable[str]) -> Iterable[str]:
    for word in words:
        padded = f" {word} "
        size = len(padded)
        for n in LETTER_RUNS:
            if n > size:
                break
            for k in range(size - n + 1):
                yield padded[k : k + n]


def candidate_features(
    words: list[str], first: int, last: int, rank: int, places: int, focus: bool, country_named: bool
) -> list[str]:
    """Features of the place named by words[first..last]: its neighbours, its rank among the `places`
    distinct places the post names, whether it lies in a focus country (rules.yaml gazetteer
    countries) and whether the post names its country."""
    features = [
        f"rank={min(rank, 3)}",
        f"places={min(places, 4)}",
        f"focus={focus}",
        f"country={country_named}",
    ]
    for d in range(1, CONTEXT_WORDS + 1):
        before = words[first - d] if first - d >= 0 else "^"
        after = words[last + d] if last + d < len(words) else "$"
        features += [f"L{d}={before}", f"R{d}={after}"]
    features += [f"LW={w}" for w in words[max(0, first - WINDOW_WORDS) : first]]
    features += [f"RW={w}" for w in words[last + 1 : last + 1 + WINDOW_WORDS]]
    return features


class _Group:
    """One group's weights: each feature's idf times its coefficient, and its idf squared."""

    def __init__(self, weights: dict[str, tuple[float, float]]) -> None:
        self.signal = {f: idf * coef for f, (idf, coef) in weights.items()}
        self.square = {f: idf * idf for f, (idf, _) in weights.items()}

    def total(self, features: Iterable[str]) -> tuple[float, float]:
        """The features' summed signal and summed idf squared (unknown features weigh nothing)."""
        features = list(features)
        signal, square = self.signal.get, self.square.get
        return sum(map(signal, features, repeat(0.0))), sum(map(square, features, repeat(0.0)))


class Reader:
    """The trained model: `likelihood` of a post being a report, `place_score` of its candidates."""

    def __init__(self, model: dict[str, object]) -> None:
        if model.get("format") != FORMAT:
            raise ValueError(f"reader model format {model.get('format')!r}, expected {FORMAT}")
        post = _dict(model["post"])
        self.intercept = float(post["intercept"])  # type: ignore[arg-type]
        groups = {name: _dict(table) for name, table in _dict(post["groups"]).items()}
        if set(groups) != {"words", "letters"}:
            raise ValueError(f"reader model groups {sorted(groups)}, expected letters and words")
        self._words = _Group({f: (float(w[0]), float(w[1])) for f, w in groups["words"].items()})  # type: ignore[index]
        self._letters = _Group({f: (float(w[0]), float(w[1])) for f, w in groups["letters"].items()})  # type: ignore[index]
        place = _dict(model["place"])
        self.place_intercept = float(place["intercept"])  # type: ignore[arg-type]
        self.place_weights = {f: float(w) for f, w in _dict(place["weights"]).items()}  # type: ignore[arg-type]
        self.trained_on = model.get("trained_on", [])
        # Words of which a post must hold one to be read at all (none listed: every post is read): the
        # words the model counts towards a report, everyday words and digits aside (bench/train_reader.py).
        gate = model.get("gate")
        self.gate = frozenset(gate) if isinstance(gate, list) else frozenset()
        # word -> its letter runs' summed signal, and their summed idf squared
        self._word_signal: dict[str, float] = {}
        self._word_square: dict[str, float] = {}

    def likelihood(self, words: list[str]) -> float:
        """0..1: how likely the post is to report, as current news, that a town fell or was taken."""
        said, length = self._words.total([*words, *map(" ".join, pairwise(words))])
        z = self.intercept + (said / math.sqrt(length) if length else 0.0)
        for word in [w for w in words if w not in self._word_signal]:
            self._learn(word)
        said = sum(map(self._word_signal.__getitem__, words))
        length = sum(map(self._word_square.__getitem__, words))
        return _sigmoid(z + (said / math.sqrt(length) if length else 0.0))

    def _learn(self, word: str) -> None:
        """The summed signal and idf squared of the word's letter runs, worked out once per word (a
        stream repeats its words)."""
        if len(self._word_signal) > 200_000:
            self._word_signal.clear()
            self._word_square.clear()
        self._word_signal[word], self._word_square[word] = self._letters.total(_letter_runs((word,)))

    def place_score(self, features: list[str]) -> float:
        """0..1: how likely this candidate is the place the post reports taken."""
        z = self.place_intercept + sum(self.place_weights.get(f, 0.0) for f in features)
        return _sigmoid(z)


def _dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError("reader model: a section is not a mapping")
    return value


def _sigmoid(z: float) -> float:
    if z < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


@cache
def load_reader(path: Path = MODEL_PATH) -> Reader:
    """The model file, read once per process."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return Reader(json.load(fh))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: cannot read the reader model ({exc}); rebuild it: python bench/train_reader.py"
        ) from exc
