"""Reading posts: plain JSONL and X API v2 objects; a bad line is reported with its number and skipped."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.posts import MAX_LINE_CHARS, Post, post_lines, read_posts
from tests.conftest import REPO, run_cli


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


# Issue 15, finding 1: hostile lines ended scan and replay (and the X stream) with a traceback.

GOOD = json.dumps({"id": "good", "text": "Kunduz has fallen to the Taliban."})
HOSTILE_LINES = {
    "note_tweet null": json.dumps({"data": {"id": "1", "text": "x", "note_tweet": None}}),
    "note_tweet text": json.dumps({"data": {"id": "2", "text": "x", "note_tweet": "long text"}}),
    "users null": json.dumps(
        {"data": {"id": "3", "text": "x", "author_id": "9"}, "includes": {"users": None}}
    ),
    "surrogate author": '{"id": "4", "text": "x", "author": "\\ud800"}',
    "surrogate lang": '{"id": "5", "text": "x", "lang": "\\udfff"}',
    "surrogate url": '{"id": "6", "text": "x", "url": "https://x.com/\\ud83d"}',
    "nested 100,000 deep": '{"id": "7", "text": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "4,301 digits": '{"id": "8", "text": "x", "extra": ' + "9" * 4_301 + "}",
}


def test_hostile_lines_are_skipped_with_their_numbers_and_the_next_good_line_is_read() -> None:
    lines = [line for hostile in HOSTILE_LINES.values() for line in (hostile, GOOD)]
    bad: list[int] = []
    posts = list(read_posts(lines, lambda n, reason: bad.append(n)))
    assert [p.id for p in posts].count("good") == len(HOSTILE_LINES)
    assert all(number % 2 == 1 for number in bad)  # only hostile lines (odd numbers) are reported


def test_scan_skips_every_hostile_line_with_one_stderr_line_and_no_traceback() -> None:
    stdin = "".join(f"{hostile}\n{GOOD}\n" for hostile in HOSTILE_LINES.values())
    result = run_cli("scan", "-", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert [json.loads(line)["post_id"] for line in result.stdout.splitlines()].count("good") == len(
        HOSTILE_LINES
    )
    assert max(map(len, result.stderr.splitlines()), default=0) < 200


def test_an_x_post_with_a_null_note_tweet_or_null_users_is_read_from_its_text() -> None:
    posts = list(
        read_posts([HOSTILE_LINES["note_tweet null"], HOSTILE_LINES["users null"]], lambda n, r: None)
    )
    assert [(p.id, p.text, p.author) for p in posts] == [("1", "x", None), ("3", "x", None)]


def test_an_x_post_whose_note_tweet_is_not_an_object_is_a_bad_line_naming_the_field() -> None:
    bad: list[str] = []
    assert list(read_posts([HOSTILE_LINES["note_tweet text"]], lambda n, r: bad.append(r))) == []
    assert bad and "data.note_tweet" in bad[0]


def scan_bytes(data: bytes, tmp_path: Path) -> tuple[str, str, str, str]:
    """scan of the same bytes from a file and from stdin: (file stdout, stdin stdout, file err, stdin err)."""
    path = tmp_path / "posts.jsonl"
    path.write_bytes(data)
    command = [sys.executable, "-m", "bot", "scan"]
    from_file = subprocess.run([*command, str(path)], capture_output=True, cwd=REPO, timeout=120)
    from_stdin = subprocess.run([*command, "-"], input=data, capture_output=True, cwd=REPO, timeout=120)
    assert from_file.returncode == from_stdin.returncode == 0, from_stdin.stderr
    return (
        from_file.stdout.decode(),
        from_stdin.stdout.decode(),
        from_file.stderr.decode().replace(str(path), "stdin"),
        from_stdin.stderr.decode(),
    )


def test_invalid_utf8_and_a_bare_cr_are_read_alike_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    good = GOOD.encode()
    data = (
        b'{"id": "a", "text": "Herat has fallen to the Taliban.", "author": "\xff\xfe"}\n'
        + good.replace(b'"good"', b'"b"')
        + b"\r"
        + good.replace(b'"good"', b'"c"')
        + b"\r\n\xef\xbb\xbf\n"
        + good.replace(b'"good"', b'"d"')
    )
    file_out, stdin_out, file_err, stdin_err = scan_bytes(data, tmp_path)
    assert file_out == stdin_out and file_err == stdin_err
    assert [json.loads(line)["post_id"] for line in stdin_out.splitlines()] == ["a", "b", "c", "d"]
    assert "Traceback" not in stdin_err


def test_an_overlong_line_without_a_newline_is_skipped_and_reading_goes_on() -> None:
    huge = b'{"id": "big", "text": "' + b"x" * (MAX_LINE_CHARS + 10) + b'"}'
    stream = io.BytesIO(huge + b"\n" + GOOD.encode() + b"\n")
    bad: list[tuple[int, str]] = []
    posts = list(read_posts(post_lines(stream), lambda n, r: bad.append((n, r))))
    assert [p.id for p in posts] == ["good"]
    assert bad == [(1, f"longer than {MAX_LINE_CHARS:,} characters")]


# Issue 15, finding 9: unbounded fields (a 4 MB author became 78 MB of Redis), raw terminal sequences.


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("author", "a" * 400_000),
        ("url", "https://x.com/" + "a" * 2_048),
        ("id", "1" * 101),
        ("lang", "a language that is not a code"),
        ("source", "s" * 1_000),
    ],
)
def test_a_post_with_an_overlong_or_invalid_field_is_a_bad_line_naming_it(field: str, value: str) -> None:
    bad: list[str] = []
    line = json.dumps({"id": "1", "text": "x", field: value})
    assert list(read_posts([line], lambda n, r: bad.append(r))) == []
    assert bad and f"field '{field}'" in bad[0] and len(bad[0]) < 200


def test_terminal_control_sequences_in_post_text_are_removed_and_lines_kept() -> None:
    text = "Kunduz\x1b[2J\x1b]0;pwned\x07 has\x9b31m fallen\r\nto the\x00 Taliban\ud800.\tEnd"
    post = Post.model_validate({"id": "1", "text": text})
    assert post.text == "Kunduz has fallen\nto the Taliban.\tEnd"


def test_replay_prints_no_terminal_control_sequence_from_a_post(redis_url: str, namespace: str) -> None:
    line = json.dumps({"id": "esc", "text": "\x1b[2J\x1b[31mKunduz has fallen to the Taliban.\x1b]0;x\x07"})
    result = run_cli(
        "replay", "--redis", redis_url, "-", stdin=line + "\n", env={"FRONTWATCH_NAMESPACE": namespace}
    )
    assert result.returncode == 0, result.stderr
    assert "Kunduz" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout
