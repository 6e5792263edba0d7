"""The second reader (bot/rules/reader.py): a model trained on the labelled corpora that weighs a whole
post, drops a match the phrases made in a post it reads otherwise, and reports a post no phrase covered.
End to end through the bundled rules and model first; the veto on a small model written here, so the
check does not hang on what training learnt."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from bot.posts import Post
from bot.rules import Detector, RulesError, compile_rules, load_rules, parse_rules
from bot.rules.explain import explain
from bot.rules.reader import FORMAT, MODEL_PATH, Reader, load_reader, post_features, post_words
from bot.rules.trace import Trace
from tests.conftest import REPO

DATA = REPO / "tests" / "data"
# Written here, on the constructions of blind7's misses: no phrase of rules.yaml says "is now run by".
RUN_BY = (
    "Northern Shan's biggest town Lashio is now run by the MNDAA after the junta's regional command "
    "surrendered on Saturday, residents and the alliance say."
)


def post(text: str) -> Post:
    return Post(id="r1", text=text, author="desk")


def test_a_report_no_phrase_covers_is_reported_at_the_place_the_reader_picks(detector: Detector) -> None:
    phrases_only = Detector(detector.compiled, without_reader=True)
    assert phrases_only.detect(post(RUN_BY)) == []
    [match] = detector.detect(post(RUN_BY))
    assert (match.rule, match.location, match.geonameid, match.country) == (
        "city-fallen",
        "Lashio",
        1314759,
        "MM",
    )
    assert match.evidence[0].startswith("reader ") and match.evidence[1] == "Lashio"
    assert match.actor == "MNDAA"


def test_a_short_report_is_left_to_the_phrases_whatever_the_reader_thinks(detector: Detector) -> None:
    # The reader learnt from posts of 20 to 50 words and scores these two under its report line (it would
    # not report them alone); the phrases decide.
    for text, geonameid in (("مزارشریف سقوط کرد.", 1133616), ("Rebels captured Laukkaing.", 13494766)):
        trace = Trace()
        assert [m.geonameid for m in detector.detect(post(text), trace)] == [geonameid]
        assert trace.reader is not None and trace.reader < 0.5 and trace.vetoed == []
    # ... and it adds nothing to a short post either: half a city is not the city.
    assert detector.detect(post("Russian troops now control about half of Sievierodonetsk.")) == []


def test_a_post_with_no_word_the_reader_counts_is_not_read(detector: Detector) -> None:
    trace = Trace()
    text = (
        "Weather: heavy rain expected in the north this weekend, drivers are urged to take care on the roads."
    )
    assert detector.detect(post(text), trace) == [] and trace.reader is None


def test_explain_shows_the_readers_verdict_and_its_place(detector: Detector) -> None:
    out = explain(detector, RUN_BY)
    assert "no trigger phrase of any rule" in out
    assert "second reader: likelihood of a report" in out
    assert "its place: 'Lashio'" in out and out.endswith("confidence " + out.rsplit("confidence ", 1)[1])
    assert "matches: city-fallen (fallen): Lashio [1314759, MM]" in out


def test_the_reader_scores_a_post_exactly_as_training_computed_its_features(detector: Detector) -> None:
    """The bot's word-by-word sums must equal the training definition (bench/train_reader.py)."""
    reader = detector.reader
    assert reader is not None
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as fh:
        groups = json.load(fh)["post"]["groups"]
    for text in (RUN_BY, "Kabul has fallen. The Taliban are in the presidential palace, officials say."):
        words = post_words(text)
        z = reader.intercept
        for name, counts in post_features(words).items():
            known = {f: n for f, n in counts.items() if f in groups[name]}
            said = sum(n * groups[name][f][0] * groups[name][f][1] for f, n in known.items())
            length = math.sqrt(sum(n * groups[name][f][0] ** 2 for f, n in known.items()))
            z += said / length if length else 0.0
        assert reader.likelihood(words) == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-9)


def test_the_bundled_model_was_trained_on_every_labelled_corpus() -> None:
    """A corpus added to tests/data without training again would leave the model behind it (a blind set
    stays outside tests/data until its first score is recorded: see tests/data/README.md)."""
    trained = {(t["file"], t["posts"]) for t in load_reader().trained_on}  # type: ignore[union-attr]
    on_disk = {(f.name, len(f.read_text(encoding="utf-8").splitlines())) for f in DATA.glob("detect_*.jsonl")}
    assert trained == on_disk, "train again: pip install -e '.[train]' && python bench/train_reader.py"


def _small_model(word_weights: dict[str, float]) -> Reader:
    """A model file's content with only word weights (idf 1): what training would write, made small."""
    return Reader(
        {
            "format": FORMAT,
            "post": {
                "intercept": 0.0,
                "groups": {"words": {w: [1.0, c] for w, c in word_weights.items()}, "letters": {}},
            },
            "place": {"intercept": 0.0, "weights": {}},
            "gate": [],
        }
    )


def test_a_match_of_the_phrases_in_a_post_the_reader_reads_otherwise_is_dropped_unless_trusted() -> None:
    compiled = compile_rules(load_rules(REPO / "rules.yaml"))
    text = (
        "The Taliban captured Kunduz on Sunday, and the families who stayed behind tell our reporter what "
        "they lived through in the hours that followed."
    )
    assert [m.location for m in Detector(compiled, without_reader=True).detect(post(text))] == ["Kunduz"]
    vetoing = Detector(compiled, reader=_small_model({"reporter": -9.0}))
    trace = Trace()
    assert vetoing.detect(post(text), trace) == []
    assert trace.vetoed == [("city-fallen", "Kunduz")]
    assert "dropped city-fallen: Kunduz" in explain(vetoing, text)
    # the same model on a post without those words keeps the match
    assert [m.location for m in vetoing.detect(post(text.replace("our reporter", "us")))] == ["Kunduz"]


def test_the_reader_adds_no_report_where_the_rules_read_an_intention_in_the_places_sentence() -> None:
    compiled = compile_rules(load_rules(REPO / "rules.yaml"))
    eager = _small_model({"governor": 9.0})  # a model sure that any post naming a governor is a report
    plan = (
        "The governor of Nineveh said the army vows to free Tal Afar from the militants, and told the "
        "families still inside the town to stay away from the main roads."
    )
    assert Detector(compiled, without_reader=True).detect(post(plan)) == []
    trace = Trace()
    assert Detector(compiled, reader=eager).detect(post(plan), trace) == []
    assert trace.reader is not None and trace.reader > 0.9
    assert trace.reader_held == [("city-fallen", "cue 'vows' (hedge) in the place's sentence")]
    assert "not added to city-fallen: cue 'vows' (hedge) in the place's sentence" in explain(
        Detector(compiled, reader=eager), plan
    )
    # without the vow, the same model adds its report (no phrase covers "now runs")
    report = plan.replace("the army vows to free Tal Afar from the militants", "the army now runs Tal Afar")
    assert Detector(compiled, without_reader=True).detect(post(report)) == []
    assert [m.location for m in Detector(compiled, reader=eager).detect(post(report))] == ["Tall ‘Afar"]


def test_a_broken_model_file_names_itself_and_how_to_rebuild_it(tmp_path: Path) -> None:
    broken = tmp_path / "reader.json.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match=r"reader\.json\.gz.*python bench/train_reader\.py"):
        load_reader(broken)
    older = tmp_path / "old.json.gz"
    with gzip.open(older, "wt", encoding="utf-8") as fh:
        json.dump({"format": 0}, fh)
    with pytest.raises(ValueError, match="format 0, expected 1"):
        load_reader(older)


def test_rules_yaml_refuses_a_reader_threshold_out_of_range_naming_the_field() -> None:
    text = """\
version: 1
rules:
  - id: city-fallen
    triggers:
      en: ["{place} has fallen"]
    reader:
      veto_below: 1.5
"""
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    assert "rules.yaml:7: rules[0].reader.veto_below" in str(caught.value)


def test_the_reader_adds_no_report_at_a_place_it_rates_under_its_floor(
    detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with the floor above every score, the report the reader would add at Lashio is held back
    monkeypatch.setattr("bot.rules.engine.READER_PLACE_FLOOR", 1.0)
    trace = Trace()
    assert detector.detect(post(RUN_BY), trace) == []
    assert trace.reader is not None and trace.reader >= 0.7 and trace.reader_place is not None
    assert trace.reader_place[2] == "Lashio" and trace.reader_place[3] < 1.0
    assert "no place it rates 1.0 or more" in explain(detector, RUN_BY)


def test_the_reader_adds_no_report_at_the_town_the_holders_fled_to(detector: Detector) -> None:
    # "the Taliban took Burka district of Baghlan last night; the district governor fled to Pul-e Khumri":
    # Burka is no town the gazetteer knows, Baghlan is the district's province, Pul-e Khumri where he went
    text = "طالبانو پرون شپه د بغلان بورکه ولسوالۍ ونیوله؛ ولسوال پلخمري ته تښتېدلی."
    trace = Trace()
    assert detector.detect(post(text), trace) == []
    assert trace.reader is not None and trace.reader >= 0.7
    assert trace.reader_place is not None and trace.reader_place[2] == "Pul-e Khumrī"
    assert "where someone went" in explain(detector, text)
