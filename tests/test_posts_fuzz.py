"""Hostile posts (issue 15, finding 1), generated: no line or X payload stops `scan`, `replay` or the
X stream, and the good post after it is always read. The parser takes many examples; the real CLI and
the X stream against the fake X server take a few generated files and payload sequences each.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.posts import (
    MAX_AUTHOR_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    BadPostLine,
    Post,
    parse_post_line,
    parse_x_payload,
    post_lines,
    read_posts,
)
from bot.sources.x_stream import StreamStats, XStreamSource, _Listener
from bot.sources.x_timeline import XTimelinePoller
from bot.store.keys import Keys
from tests.conftest import REPO, eventually
from tests.fakes.x_api import BEARER_TOKEN, FakeX

MANY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ONE = settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REPORT = "Kunduz has fallen to the Taliban."
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

# -- what an attacker or a broken client sends -------------------------------------------------------

nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(categories=["Cs", "Cc", "Cf"]),
        st.sampled_from('\x1b[]\\"{}:,0123456789'),
        st.characters(),
    ),
    max_size=40,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**40, max_value=10**80),
    st.floats(),
    nasty_text,
    st.sampled_from(
        ["", "und", "en", "pt-BR", "2021-08-14T15:44:00", "2021-08-14T15:44:00Z", "@", "x" * 300]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
ref = st.fixed_dictionaries(
    {}, optional={"type": st.sampled_from(["retweeted", "quoted", "replied_to"]) | values, "id": values}
)
x_tweet = st.fixed_dictionaries(
    {},
    optional={
        "id": values,
        "text": values,
        "author_id": st.sampled_from(["42", 42]) | values,
        "lang": values,
        "created_at": values,
        "note_tweet": values | st.fixed_dictionaries({}, optional={"text": values}),
        "referenced_tweets": values | st.lists(ref, max_size=3),
    },
)
x_user = st.fixed_dictionaries({}, optional={"id": st.sampled_from(["42", 42]) | values, "username": values})
x_payload = st.fixed_dictionaries(
    {},
    optional={
        "data": values | x_tweet,
        "includes": values | st.fixed_dictionaries({}, optional={"users": values | st.lists(x_user)}),
        "errors": values,
        "matching_rules": values,
    },
)
plain_post = st.fixed_dictionaries(
    {},
    optional={
        field: values for field in ("id", "text", "author", "lang", "created_at", "url", "refs", "source")
    },
)


def as_json(obj: Any, ascii_only: bool) -> str:
    return json.dumps(obj, ensure_ascii=ascii_only)


json_lines = st.builds(as_json, plain_post | x_payload | values, st.booleans())
shapes = st.one_of(
    st.integers(1, 200_000).map(lambda n: '{"id": "1", "text": "x", "deep": ' + "[" * n + "]" * n + "}"),
    st.integers(1, 20_000).map(lambda n: '{"id": "1", "text": "x", "n": ' + "7" * n + "}"),
    st.integers(1, 300_000).map(lambda n: '{"id": "1", "text": "' + '\\"[' * n),
    st.sampled_from(["NaN", "-Infinity", '{"id": 1, "text": NaN}', "{" * 50, '"\\ud800"', "[]", "null"]),
)
hostile_lines = st.one_of(json_lines, json_lines.map(lambda line: line[: len(line) // 2]), shapes, nasty_text)
hostile_bytes = st.one_of(
    hostile_lines.map(lambda line: line.encode("utf-8", "surrogatepass")),
    st.binary(max_size=60),
    json_lines.map(lambda line: line.encode("utf-8", "surrogatepass").replace(b'"', b'"\xff', 1)),
)


def good_line(n: int) -> str:
    return json.dumps({"id": f"good-{n}", "text": REPORT, "author": f"reporter{n}"})


def assert_safe(post: Post) -> None:
    """A post that got through is bounded and prints as it reads: no control sequence, no broken Unicode."""
    assert not UNSAFE.search(post.text.replace("\n", " ").replace("\t", " "))
    for field in (post.id, post.author, post.lang, post.url, post.source):
        assert field is None or not UNSAFE.search(field)
    assert len(post.text) <= MAX_TEXT_CHARS and len(post.author or "") <= MAX_AUTHOR_CHARS
    assert len(post.url or "") <= MAX_URL_CHARS
    post.model_dump_json().encode("utf-8")


# -- the parser, many examples --------------------------------------------------------------------------


@MANY
@given(hostile_lines)
def test_no_line_gets_past_the_parser_and_the_next_good_line_is_read(line: str) -> None:
    bad: list[int] = []
    posts = list(read_posts([line, good_line(1)], lambda n, reason: bad.append(n)))
    assert posts[-1].id == "good-1"
    assert bad in ([], [1])
    for post in posts:
        assert_safe(post)


@MANY
@given(st.lists(hostile_bytes, max_size=4))
def test_no_bytes_from_a_file_or_stdin_stop_reading_and_the_next_good_line_is_read(
    chunks: list[bytes],
) -> None:
    data = b"".join(chunk + b"\n" for chunk in chunks) + good_line(1).encode() + b"\n"
    posts = list(read_posts(post_lines(io.BytesIO(data)), lambda n, reason: None))
    assert posts[-1].id == "good-1"
    for post in posts:
        assert_safe(post)


@MANY
@given(hostile_bytes | hostile_lines.map(lambda line: json.dumps(line).encode()))
def test_an_x_payload_is_a_post_none_or_a_bad_post_line_and_nothing_else(raw: bytes) -> None:
    try:
        post = parse_x_payload(raw)
    except BadPostLine:
        return
    if post is not None:
        assert_safe(post)
        assert parse_post_line(raw) == post.model_copy(update={"source": "file"})


class Collected:
    def __init__(self) -> None:
        self.posts: list[Post] = []

    async def __call__(self, post: Post) -> None:
        self.posts.append(post)


def stream_message(text: str, post_id: str = "1") -> bytes:
    return json.dumps(
        {
            "data": {"id": post_id, "text": text, "author_id": "42", "lang": "en"},
            "includes": {"users": [{"id": "42", "username": "BilalSarwary"}]},
        }
    ).encode()


@MANY
@given(st.lists(hostile_bytes | x_payload.map(lambda p: json.dumps(p).encode()), min_size=1, max_size=3))
def test_the_x_stream_callback_survives_any_payload_and_emits_the_next_post(payloads: list[bytes]) -> None:
    listener = _Listener(BEARER_TOKEN, StreamStats())
    listener.emit = got = Collected()

    async def feed() -> None:
        for raw in payloads:
            await listener.on_data(raw)
        await listener.on_data(stream_message(REPORT, "999"))

    asyncio.run(feed())
    assert got.posts[-1].id == "999"
    assert listener.stats.posts == len(got.posts)


def test_the_x_stream_callback_skips_invalid_utf8_and_logs_it_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    listener = _Listener(BEARER_TOKEN, StreamStats())
    listener.emit = got = Collected()
    raw = b'{"data": {"id": "1", "text": "\\u001b[2J\xff", "note_tweet": null}, "includes": {"users": null}}'
    asyncio.run(listener.on_data(raw + b"\x1b]0;x"))
    asyncio.run(listener.on_data(raw))
    assert [p.text for p in got.posts] == ["\ufffd"]
    assert listener.stats.malformed == 1
    assert "\x1b" not in caplog.text and "\\x1b" in caplog.text


# -- the real CLI, a few generated files -------------------------------------------------------------

BAD_LINE = re.compile(r"^\S+:(\d+): skipped: .{1,200}$")


def mixed_file(chunks: list[bytes]) -> bytes:
    """Each hostile chunk followed by a good report on a line of its own."""
    return b"".join(chunk + b"\n" + good_line(n).encode() + b"\n" for n, chunk in enumerate(chunks))


def expected(data: bytes) -> tuple[list[str], list[int]]:
    """What the parser makes of `data`: the posts' ids and the numbers of the bad lines."""
    bad: list[int] = []
    posts = list(read_posts(post_lines(io.BytesIO(data)), lambda n, reason: bad.append(n)))
    return [p.id for p in posts], bad


def frontwatch(*args: str, data: bytes) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args], input=data, capture_output=True, cwd=REPO, timeout=180
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


@FEW
@given(st.lists(hostile_bytes, min_size=5, max_size=15))
def test_scan_skips_generated_hostile_lines_by_number_and_scans_every_good_one(chunks: list[bytes]) -> None:
    data = mixed_file(chunks)
    _, bad = expected(data)
    result = frontwatch("scan", "-", data=data)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    reported = [BAD_LINE.match(line) for line in result.stderr.splitlines()]
    assert [int(m.group(1)) for m in reported if m] == bad and all(reported)
    matched = {json.loads(line)["post_id"] for line in result.stdout.splitlines()}
    assert {f"good-{n}" for n in range(len(chunks))} <= matched


@ONE
@given(chunks=st.lists(hostile_bytes, min_size=10, max_size=20))
def test_replay_skips_generated_hostile_lines_and_replays_every_good_one(
    chunks: list[bytes], redis_url: str
) -> None:
    data = mixed_file(chunks)
    ids, bad = expected(data)
    env_namespace = f"test-fuzz-{uuid.uuid4().hex[:8]}:"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "replay", "--json", "--redis", redis_url, "-"],
        input=data,
        capture_output=True,
        cwd=REPO,
        timeout=180,
        env={**os.environ, "FRONTWATCH_NAMESPACE": env_namespace},
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert [int(m.group(1)) for m in map(BAD_LINE.match, stderr.splitlines()) if m] == bad
    assert f"frontwatch: {len(ids)} posts, " in stderr
    alerts = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert {i for a in alerts for i in a["post_ids"]} >= {f"good-{n}" for n in range(len(chunks))}


# -- the X stream end to end, against the fake X server --------------------------------------------------


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    async with FakeX(keepalive_seconds=0.2) as fake:
        fake.add_user("1001", "BilalSarwary")
        yield fake


FINDINGS = [
    '{"data": {"id": "1", "text": "x", "note_tweet": "not an object"}}',
    '{"data": {"id": "2", "text": "x", "author_id": "1"}, "includes": {"users": null}}',
    '{"data": {"id": "3", "text": "x", "lang": "\\udfff"}}',
    '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"data": {"id": ' + "1" * 4_301 + ', "text": "x"}}',
    "\x1b[2J not json",
]


async def stream_survives(fake: FakeX, lines: list[str]) -> XStreamSource:
    """Each line sent raw on the stream, each followed by a real post; every real post must arrive."""
    got = Collected()
    source = XStreamSource(BEARER_TOKEN, fake.url, ["BilalSarwary"], stall_seconds=5)
    await source.start(got)
    await fake.wait_for_stream()
    for n, line in enumerate(lines):
        fake.send_raw(line)
        fake.post("1001", f"{REPORT} ({n})")
    want = [f"{REPORT} ({n})" for n in range(len(lines))]
    await eventually(lambda: [p.text for p in got.posts if p.text.startswith(REPORT)] == want, what="posts")
    await source.stop()
    return source


async def test_the_x_stream_reads_the_next_post_after_each_payload_that_ended_it(fake_x: FakeX) -> None:
    source = await stream_survives(fake_x, FINDINGS)
    assert source.stats.reconnects == 0 and source.stats.malformed >= 4


@FEW
@given(
    st.lists(json_lines.map(lambda line: json.dumps(json.loads(line))) | nasty_text, min_size=3, max_size=6)
)
def test_the_x_stream_reads_every_post_after_generated_hostile_payloads(lines: list[str]) -> None:
    async def scenario() -> XStreamSource:
        async with FakeX(keepalive_seconds=0.2) as fake:
            fake.add_user("1001", "BilalSarwary")
            return await stream_survives(fake, [line.encode("utf-8", "replace").decode() for line in lines])

    assert asyncio.run(scenario()).stats.reconnects == 0


async def test_a_timeline_poll_skips_a_malformed_post_and_emits_the_others(
    fake_x: FakeX, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    poller = XTimelinePoller(BEARER_TOKEN, fake_x.url, redis_client, Keys(namespace), ["BilalSarwary"], 100)
    poller.emit = got
    await poller.poll_all(["BilalSarwary"])  # watching starts now
    fake_x.post("1001", f"{REPORT} (before)")
    fake_x.post("1001", "a note that is not an object", extra={"note_tweet": "long text"})
    fake_x.post("1001", f"{REPORT} (after)")
    poller.next_round_at = 0.0
    with caplog.at_level(logging.WARNING):
        assert await poller.poll_all(["BilalSarwary"]) == 2
    assert [p.text for p in got.posts] == [f"{REPORT} (before)", f"{REPORT} (after)"]
    assert "skipped a malformed post (field 'data.note_tweet'" in caplog.text
    await poller.stop()
