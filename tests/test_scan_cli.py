"""`frontwatch scan` on the Mazar-i-Sharif scenario: the contract of DESIGN §3 and §4."""

from __future__ import annotations

import json

from tests.conftest import REPO, run_cli

MATCH_FIELDS = {"post_id", "rule", "location", "geonameid", "country", "lang", "confidence", "evidence"}


def scan_examples() -> list[dict[str, object]]:
    result = run_cli("scan", str(REPO / "examples" / "mazar-i-sharif.jsonl"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_fallen_into_the_hands_of_taliban_post_matches_mazar_i_sharif() -> None:
    matches = {(m["post_id"], m["geonameid"]) for m in scan_examples()}
    assert ("1426560000000000007", 1133616) in matches


def test_the_chaotic_scenes_post_and_other_negatives_do_not_match() -> None:
    matched = {m["post_id"] for m in scan_examples()}
    negatives = {
        "1426560000000000001",
        "1426560000000000002",
        "1426560000000000004",
        "1426560000000000005",
        "1426560000000000006",
    }
    assert matched.isdisjoint(negatives)


def test_every_match_line_has_the_contract_fields() -> None:
    for match in scan_examples():
        assert set(match) >= MATCH_FIELDS
        assert match["rule"] == "city-fallen"
        assert 0.0 <= float(match["confidence"]) <= 1.0  # type: ignore[arg-type]
        assert isinstance(match["evidence"], list) and match["evidence"]


def test_every_matched_post_of_the_scenario_names_mazar_i_sharif_but_the_one_on_sharana() -> None:
    places = {m["post_id"]: m["location"] for m in scan_examples()}
    assert (
        places.pop("1426560000000000003") == "Sharana"
    )  # "claimed control over Sharana, the capital of Paktika"
    assert set(places.values()) == {"Mazar-i-Sharif"}


def test_a_missing_input_file_is_one_line_and_exit_1() -> None:
    result = run_cli("scan", "no-such-file.jsonl")
    assert result.returncode == 1
    assert result.stderr.strip() == "frontwatch: no-such-file.jsonl: cannot open (No such file or directory)"
