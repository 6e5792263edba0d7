"""Stream rules from rules.yaml: accounts packed within X's limits, synced by diff."""

from __future__ import annotations

import pytest

from bot.rules import parse_rules
from bot.runtime.sources import watched_accounts
from bot.sources.x_rules import StreamRule, TooManyAccounts, diff_rules, stream_rules

RULES = """
account_groups:
  journalists: {trust: 2, accounts: ["@BilalSarwary", "@TOLOnews"]}
  officials: {trust: 3, accounts: ["@ZabihullahM33", "@bilalsarwary"]}
rules:
  - id: city-fallen
    triggers: {en: ["{place} has fallen"]}
"""


def test_watched_accounts_come_from_every_group_once() -> None:
    assert watched_accounts(parse_rules(RULES)) == ["BilalSarwary", "TOLOnews", "ZabihullahM33"]


def test_accounts_are_packed_into_as_few_rules_as_the_length_allows() -> None:
    handles = [f"reporter{i:03d}" for i in range(100)]
    rules = stream_rules(handles, max_chars=200)
    assert all(len(r.value) <= 200 for r in rules)
    assert [h for r in rules for h in r.value.replace("from:", "").split(" OR ")] == handles
    assert [r.tag for r in rules][:2] == ["frontwatch:accounts:1", "frontwatch:accounts:2"]


def test_more_accounts_than_the_access_level_allows_is_a_clear_error() -> None:
    with pytest.raises(TooManyAccounts, match="100 accounts need 10 stream rules; the access level allows 5"):
        stream_rules([f"reporter{i:03d}" for i in range(100)], max_rules=5, max_chars=200)


def test_sync_adds_the_new_deletes_the_stale_keeps_the_rest_and_leaves_others_alone() -> None:
    wanted = [
        StreamRule("from:a OR from:b", "frontwatch:accounts:1"),
        StreamRule("from:c", "frontwatch:accounts:2"),
    ]
    current = [
        ("1", "from:a OR from:b", "frontwatch:accounts:1"),
        ("2", "from:old", "frontwatch:accounts:2"),
        ("3", "cats OR dogs", "another-tool"),
    ]
    sync = diff_rules(wanted, current)
    assert sync.add == [StreamRule("from:c", "frontwatch:accounts:2")]
    assert sync.delete_ids == ["2"]
    assert sync.keep == 1
