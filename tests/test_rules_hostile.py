"""rules.yaml written to hurt, or by mistake so that a rule can never fire: refused at once, with its line,
in bounded time and memory, by check-rules and by the hot reload alike."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.rules import RulesError, load_rules, parse_rules
from bot.rules import loader as loader_module
from bot.rules.watch import RulesWatcher
from tests.conftest import REPO

MINIMAL = """\
version: 1
rules:
  - id: city-fallen
    triggers:
      en: ["{place} has fallen"]
"""

# A few hundred bytes that expand to 9^9 strings when built: the "billion laughs" of YAML.
ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def with_rule_lines(*lines: str) -> str:
    return MINIMAL + "".join(f"    {line}\n" for line in lines)


def run_check_rules_bounded(path: Path | str) -> subprocess.CompletedProcess[str]:
    """`frontwatch check-rules PATH` limited to 2 GB of memory and 60 s, so a regression fails the
    test instead of eating the machine."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [sys.executable, "-m", "bot", "check-rules", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        preexec_fn=limit_memory,
    )


# --- aliases, merge keys, nesting: refused while parsing, before anything is built ---


def test_an_alias_bomb_is_refused_at_its_first_anchor_before_anything_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(*_: object) -> None:
        raise AssertionError("the YAML was turned into data: an alias bomb would have been expanded")

    monkeypatch.setattr(loader_module._Builder, "build", never)
    assert len(ALIAS_BOMB.encode()) < 500
    [(line, path, message)] = problems_of(ALIAS_BOMB)
    assert (line, path) == (1, "")
    assert "anchors and aliases" in message


def test_check_rules_refuses_an_alias_bomb_in_one_line_within_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "rules.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    result = run_check_rules_bounded(bomb)
    assert result.returncode == 1
    assert f"{bomb}:1: YAML anchors and aliases" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        MINIMAL.replace('en: ["{place} has fallen"]', 'en: &en ["{place} has fallen"]'),
        MINIMAL + "  - id: again\n    triggers: {en: *en}\n",
    ],
    ids=["anchor", "alias"],
)
def test_a_yaml_anchor_or_alias_is_refused_with_its_line(text: str) -> None:
    [(line, _, message)] = problems_of(text)
    assert line in (5, 7)
    assert message.startswith("YAML anchors and aliases")


def test_a_merge_key_is_refused_with_its_line_not_a_traceback() -> None:
    text = with_rule_lines("<<: {min_sources: 2}")
    [(line, path, message)] = problems_of(text)
    assert (line, path) == (6, "rules[0]")
    assert "merge keys" in message


def test_100000_nested_brackets_are_refused_with_one_line_not_a_recursion_traceback() -> None:
    [(line, path, message)] = problems_of("rules: " + "[" * 100_000)
    assert (line, path) == (1, "")
    assert "nesting depth" in message or "nested more than" in message


def test_lists_nested_deeper_than_any_rule_needs_are_refused_before_they_are_built() -> None:
    [(line, path, message)] = problems_of("rules: " + "[" * 40 + "]" * 40 + "\n")
    assert (line, path, message) == (1, "", "lists and mappings nested more than 32 deep")


def test_an_unknown_yaml_tag_or_a_5000_digit_number_is_refused_at_its_line() -> None:
    found = problems_of(with_rule_lines("min_sources: " + "9" * 5000, "description: !!python/name:os.system"))
    assert [(line, path) for line, path, _ in found] == [
        (6, "rules[0].min_sources"),
        (7, "rules[0].description"),
    ]


# --- the rules path: only a regular file, at most MAX_RULES_BYTES, read without blocking ---


def test_a_fifo_as_the_rules_path_is_refused_at_once_not_read_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    [error] = _within_seconds(10, lambda: load_rules(fifo))
    assert isinstance(error, RulesError)
    assert (
        error.report() == f"{fifo}: not a regular file but a named pipe (FIFO); give the path of a rules.yaml"
    )


def test_check_rules_on_dev_zero_or_a_directory_says_so_in_one_line(tmp_path: Path) -> None:
    for path, kind in (("/dev/zero", "a character device"), (str(tmp_path), "a directory")):
        result = run_check_rules_bounded(path)
        assert result.returncode == 1
        assert result.stderr.splitlines()[0] == (
            f"{path}: not a regular file but {kind}; give the path of a rules.yaml"
        )


def test_a_rules_file_over_the_size_limit_is_refused_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "rules.yaml"
    with big.open("wb") as fh:
        fh.truncate(loader_module.MAX_RULES_BYTES + 1)  # sparse: no disk used
    monkeypatch.setattr(os, "read", lambda *_: pytest.fail("the oversized file was read"))
    with pytest.raises(RulesError) as caught:
        load_rules(big)
    assert caught.value.report() == (
        f"{big}: 5,242,881 bytes; a rules file may be at most 5 MB (5,242,880 bytes)"
    )


# --- numbers a rule can hold without breaking what uses them ---


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("window_minutes: 1.0e+17", "rules[0].window_minutes"),
        ("window_minutes: 100000000000000000", "rules[0].window_minutes"),
        ("window_minutes: 525601", "rules[0].window_minutes"),
        ("min_sources: 1000001", "rules[0].min_sources"),
        ("exclude_places: [99999999999]", "rules[0].exclude_places[0]"),
    ],
)
def test_a_number_too_large_for_a_rule_is_refused_at_its_line(line: str, path: str) -> None:
    [(found_line, found_path, message)] = problems_of(with_rule_lines(line))
    assert (found_line, found_path) == (6, path)
    assert "less than or equal" in message


def test_a_year_long_window_is_accepted() -> None:
    assert parse_rules(with_rule_lines("window_minutes: 525600")).rules[0].window_minutes == 525600


def test_gazetteer_numbers_too_large_are_refused_at_their_line() -> None:
    text = MINIMAL + (
        "gazetteer:\n  min_population: 1.0e+12\n"
        "  countries: {AF: 1000000000000}\n  places: [{geonameid: 1.0e+12}]\n"
    )
    assert {(line, path) for line, path, _ in problems_of(text)} == {
        (7, "gazetteer.min_population"),
        (8, "gazetteer.countries.AF"),
        (9, "gazetteer.places[0].geonameid"),
    }


def test_check_rules_refuses_window_minutes_1e17_that_would_crash_the_event_store(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(with_rule_lines("window_minutes: 1.0e+17"), encoding="utf-8")
    result = run_check_rules_bounded(broken)
    assert result.returncode == 1
    assert (
        f"{broken}:6: rules[0].window_minutes: Input should be less than or equal to 525600" in result.stderr
    )


# --- rules that could never fire ---


@pytest.mark.parametrize("phrase", ["{place} !!!", "!!! {place}", "{place} <!!!>", "{place} — *"])
def test_a_trigger_that_is_only_punctuation_besides_the_place_is_refused_at_its_line(phrase: str) -> None:
    [(line, path, message)] = problems_of(MINIMAL.replace("{place} has fallen", phrase))
    assert (line, path) == (5, "rules[0].triggers.en[0]")
    assert "has no words besides {place}" in message


def test_a_withdrawal_that_is_only_punctuation_is_refused_at_its_line() -> None:
    [(line, path, message)] = problems_of(with_rule_lines('withdrawal: {en: ["?! {place}"]}'))
    assert (line, path) == (6, "rules[0].withdrawal.en[0]")
    assert "has no words besides {place}" in message


@pytest.mark.parametrize(
    ("triggers", "path"), [("{}", "rules[0].triggers"), ("{en: []}", "rules[0].triggers.en")]
)
def test_a_rule_with_no_triggers_is_refused_at_its_line(triggers: str, path: str) -> None:
    text = MINIMAL.replace('\n      en: ["{place} has fallen"]', " " + triggers)
    [(line, found_path, message)] = problems_of(text)
    assert (line, found_path) == (4, path)
    assert "must not be empty" in message


# --- accounts ---


@pytest.mark.parametrize(
    "ref", ["@@x", "@this_is_too_long_for_x", "@sp ace", "x:@@x", "bsky:nodot", "tg:ab", "rss:ftp://a/b"]
)
def test_an_account_that_is_no_handle_is_refused_at_its_line(ref: str) -> None:
    [(line, path, message)] = problems_of(with_rule_lines(f'accounts: ["{ref}"]'))
    assert (line, path) == (6, "rules[0].accounts[0]")
    assert message


@pytest.mark.parametrize(
    "ref",
    [
        "@BilalSarwary",
        "x:Abc_123",
        "bsky:name.bsky.social",
        "mastodon:https://mastodon.social/@user",
        "tg:channelname",
        "rss:https://example.org/feed.xml",
    ],
)
def test_every_network_s_form_of_an_account_is_accepted(ref: str) -> None:
    assert parse_rules(with_rule_lines(f'accounts: ["{ref}"]')).rules[0].accounts == [ref]


def test_an_unknown_group_name_is_still_named_as_such() -> None:
    [(_, _, message)] = problems_of(with_rule_lines("accounts: [reporters]"))
    assert message.startswith("'reporters' is neither an account group in account_groups nor an account")


# --- error reporting at scale ---


def test_thousands_of_broken_rules_are_each_reported_at_their_own_line() -> None:
    rules = "".join(
        f'  - id: r{i}\n    triggers: {{en: [{{regex: 5}}, "fell {{place}} to"]}}\n' for i in range(3000)
    )
    found = problems_of("rules:\n" + rules)
    assert len(found) == 6000
    assert found[-1][:2] == (6001, "rules[2999].triggers.en[1]")


# --- hot reload: the bot's own process is never blocked or flooded ---


async def test_an_alias_bomb_saved_over_rules_yaml_keeps_the_old_rules_and_tells_the_admins(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(MINIMAL, encoding="utf-8")
    told, watcher = _watcher(rules)
    rules.write_text(ALIAS_BOMB, encoding="utf-8")
    assert await asyncio.wait_for(watcher.check(), timeout=20)
    [notice] = told
    assert "old rules keep running" in notice and f"{rules}:1: YAML anchors and aliases" in notice


def test_a_fifo_put_in_place_of_rules_yaml_does_not_block_the_bot(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(MINIMAL, encoding="utf-8")
    told, watcher = _watcher(rules)
    rules.unlink()
    os.mkfifo(rules)
    [seen] = _within_seconds(10, lambda: asyncio.run(watcher.check()))
    assert seen is True
    [notice] = told
    assert "named pipe" in notice


def _watcher(rules: Path) -> tuple[list[str], RulesWatcher]:
    told: list[str] = []

    async def reload() -> str:
        return f"{len(load_rules(rules).rules)} rule(s)"

    async def tell(text: str) -> None:
        told.append(text)

    return told, RulesWatcher(rules, reload, tell)


def _within_seconds(seconds: float, call: Callable[[], object]) -> list[object]:
    """[what `call` returned or raised], or a failure when it is still running after `seconds` (it is
    left blocked in a daemon thread, so a regression fails the test instead of hanging the session)."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    if worker.is_alive():
        pytest.fail(f"still blocked after {seconds} s")
    return outcome
