"""rules.yaml: a broken file is refused with every problem at its line and YAML path, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.rules import RulesError, load_rules, parse_rules
from bot.rules.schema import json_schema_text
from tests.conftest import REPO, run_cli

MINIMAL = """\
version: 1
rules:
  - id: city-fallen
    triggers:
      en: ["{place} has fallen"]
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_a_minimal_rules_file_is_accepted() -> None:
    assert parse_rules(MINIMAL).rules[0].id == "city-fallen"


def test_broken_yaml_names_the_line() -> None:
    [(line, _, message)] = problems_of("rules:\n  - id: x\n    triggers: [unclosed\n")
    assert line == 4 and message.startswith("not valid YAML")


def test_an_empty_file_says_what_it_needs() -> None:
    assert problems_of("") == [(1, "", "the file is empty; it needs at least a 'rules' list")]


def test_a_misspelt_field_is_named_with_its_line_and_path() -> None:
    text = MINIMAL + "    window_minuts: 30\n"
    [(line, path, message)] = problems_of(text)
    assert (line, path) == (6, "rules[0].window_minuts")
    assert "unknown field" in message


def test_a_bad_trigger_is_placed_at_its_own_list_item() -> None:
    text = MINIMAL.replace('["{place} has fallen"]', '["{place} has fallen", "fell {place} to"]')
    [(line, path, message)] = problems_of(text)
    assert (line, path) == (5, "rules[0].triggers.en[1]")
    assert "must stand at the start or the end" in message


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = """\
rules:
  - id: Bad Id
    max_gap_words: lots
    triggers:
      english: ["{place} has fallen"]
"""
    paths = {path for _, path, _ in problems_of(text)}
    assert paths == {"rules[0].id", "rules[0].max_gap_words", "rules[0].triggers"}


def test_a_key_written_twice_is_an_error_not_a_silent_override() -> None:
    text = MINIMAL + "    min_sources: 2\n    min_sources: 3\n"
    assert problems_of(text) == [
        (7, "rules[0].min_sources", "'min_sources' appears twice in the same mapping")
    ]


def test_unknown_account_group_and_duplicate_rule_ids_are_named() -> None:
    text = MINIMAL + "    accounts: [reporters]\n" + MINIMAL.split("rules:\n", 1)[1]
    found = problems_of(text)
    assert (
        6,
        "rules[0].accounts[0]",
        "'reporters' is neither an account group in account_groups nor an account"
        " (@handle or x:handle (X), bsky:handle.bsky.social, mastodon:https://server/@user,"
        " tg:channelname, rss:https://example.org/feed.xml)",
    ) in found
    assert (7, "rules[1].id", "rule id 'city-fallen' is used twice") in found


def test_an_invalid_regular_expression_is_refused() -> None:
    text = MINIMAL.replace('["{place} has fallen"]', '[{regex: "(unclosed"}]')
    [(line, path, message)] = problems_of(text)
    assert (line, path) == (5, "rules[0].triggers.en[0].regex")
    assert "RE2" in message


def test_a_regex_trigger_matches_and_cannot_backtrack_forever() -> None:
    from bot.posts import Post
    from bot.rules import Detector, compile_rules

    text = MINIMAL.replace('["{place} has fallen"]', '[{regex: "(a+)+b|ha[sd] fallen", place: before}]')
    # the bundled gazetteer settings, whose place index the suite has built already (a file of its own
    # settings would build another, half a minute on a clean machine)
    bundled = load_rules(REPO / "rules.yaml")
    rules = parse_rules(text).model_copy(update={"gazetteer": bundled.gazetteer})
    detector = Detector(compile_rules(rules))
    assert detector.detect(Post(id="1", text="a" * 5000 + "!")) == []
    [match] = detector.detect(Post(id="2", text="Kunduz had fallen by noon."))
    assert match.location == "Kunduz"


def test_check_rules_accepts_the_bundled_file_with_a_summary() -> None:
    result = run_cli("check-rules", str(REPO / "rules.yaml"))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "languages: 7 (ar, en, fa, fr, ps, ru, uk)" in result.stdout


def test_check_rules_on_a_broken_file_exits_1_with_line_numbers_and_no_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(MINIMAL + "    min_confidence: 7\n  - triggers: {}\n", encoding="utf-8")
    result = run_cli("check-rules", str(broken))
    assert result.returncode == 1
    assert f"{broken}:6: rules[0].min_confidence:" in result.stderr
    assert f"{broken}:7: rules[1].id: this field is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_scan_with_a_broken_rules_file_exits_1_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("rules: [", encoding="utf-8")
    result = run_cli("scan", "--rules", str(broken), "-", stdin="")
    assert result.returncode == 1
    assert "not valid YAML" in result.stderr and "Traceback" not in result.stderr


def test_the_committed_json_schema_is_up_to_date() -> None:
    committed = (REPO / "rules.schema.json").read_text(encoding="utf-8")
    assert committed == json_schema_text(), "regenerate it: python -m bot.rules.schema > rules.schema.json"


def test_the_bundled_rules_validate_against_the_json_schema() -> None:
    schema = json.loads((REPO / "rules.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load((REPO / "rules.yaml").read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize(
    "phrase", ["{place has fallen", "{plase} has fallen", "captured place}", "captured { place }"]
)
def test_a_misspelt_or_unbalanced_placeholder_is_refused_with_its_line(phrase: str) -> None:
    text = MINIMAL.replace('["{place} has fallen"]', f'["{{place}} fell", "{phrase}"]')
    [(line, path, message)] = problems_of(text)
    assert (line, path) == (5, "rules[0].triggers.en[1]")
    assert "is not a placeholder; write {place} exactly" in message


def test_check_rules_names_the_file_line_and_path_of_a_misspelt_placeholder(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(MINIMAL.replace("{place} has fallen", "{plase} has fallen"), encoding="utf-8")
    result = run_cli("check-rules", str(broken))
    assert result.returncode == 1
    assert (
        f"{broken}:5: rules[0].triggers.en[0]: '{{plase}} has fallen': '{{plase}}' is not a placeholder"
        in result.stderr
    )


def test_a_rule_says_whether_chats_that_follow_everything_get_it() -> None:
    rules = parse_rules((REPO / "rules.yaml").read_text(encoding="utf-8")).rules
    assert {(r.id, r.kind, r.opt_in) for r in rules} == {
        ("city-fallen", "fallen", False),
        ("city-contested", "contested", True),
    }
    assert set(rules[1].triggers) == {"en", "fa", "ps", "ar", "ru", "uk", "fr"}


def test_a_verb_and_its_preposition_may_stand_apart_once() -> None:
    """ "выбил* … из {place}": a star may end the verb before '…'; a second '…' is refused."""
    parse_rules(MINIMAL.replace('["{place} has fallen"]', '["выбил* … из {place}"]'), "rules.yaml")
    text = MINIMAL.replace('["{place} has fallen"]', '["drove … out … of {place}"]')
    [(_, _, message)] = problems_of(text)
    assert "one '…' at most" in message
