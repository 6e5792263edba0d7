"""Reading posts: plain JSONL and X API v2 objects; a bad line is reported with its number and skipped."""

from __future__ import annotations

import json

from bot.posts import Post, read_posts
from tests.conftest import run_cli


def test_bad_lines_are_reported_with_their_numbers_and_reading_goes_on() -> None:
    lines = [
        '{"id": "1", "text": "first"}',
        "not json at all",
        "",
        '["a", "list"]',
        '{"id": "4"}',
        '{"id": "5", "text": "fifth", "created_at": "yesterday"}',
        '{"id": 6, "text": "sixth"}',
    ]
    bad: list[tuple[int, str]] = []
    posts = list(read_posts(lines, lambda n, reason: bad.append((n, reason))))
    assert [p.id for p in posts] == ["1", "6"]
    assert [n for n, _ in bad] == [2, 4, 5, 6]
    assert "not JSON" in bad[0][1]
    assert "expected a JSON object" in bad[1][1]
    assert "field 'text'" in bad[2][1]
    assert "field 'created_at'" in bad[3][1]


def test_an_x_api_v2_object_becomes_a_post_with_author_and_references() -> None:
    line = json.dumps(
        {
            "data": {
                "id": "1426",
                "text": "RT @BilalSarwary: Mazari Sharif has fallen",
                "author_id": "42",
                "lang": "en",
                "created_at": "2021-08-14T15:44:00.000Z",
                "referenced_tweets": [{"type": "retweeted", "id": "1425"}],
            },
            "includes": {"users": [{"id": "42", "username": "KabulDesk"}]},
            "matching_rules": [{"id": "9", "tag": "accounts-1"}],
        }
    )
    [post] = read_posts([line], lambda n, r: None)
    assert (post.id, post.author, post.lang, post.url) == (
        "1426",
        "KabulDesk",
        "en",
        "https://x.com/KabulDesk/status/1426",
    )
    assert post.created_at is not None and post.created_at.year == 2021
    assert [(r.type, r.id) for r in post.refs] == [("retweeted", "1425")]


def test_an_x_v2_object_without_data_is_a_bad_line() -> None:
    bad: list[str] = []
    assert list(read_posts(['{"data": null, "errors": [{"title": "x"}]}'], lambda n, r: bad.append(r))) == []
    assert bad == ["X v2 object without a 'data' object"]


def test_naive_times_are_read_as_utc_and_undetermined_language_as_none() -> None:
    post = Post.model_validate({"id": "1", "text": "x", "created_at": "2021-08-14T15:44:00", "lang": "und"})
    assert post.created_at is not None and post.created_at.utcoffset() is not None
    assert post.lang is None


def test_scan_reports_bad_lines_on_stderr_and_still_scans_the_rest() -> None:
    stdin = "{broken\n" + json.dumps({"id": "9", "text": "Kunduz has fallen to the Taliban."}) + "\n"
    result = run_cli("scan", "-", stdin=stdin)
    assert result.returncode == 0
    assert "stdin:1: skipped: not JSON" in result.stderr
    assert [json.loads(line)["post_id"] for line in result.stdout.splitlines()] == ["9"]
