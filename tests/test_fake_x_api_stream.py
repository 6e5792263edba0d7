"""The fake X API v2's filtered stream through tweepy's AsyncStreamingClient: delivery, one connection,
and tweepy's own reconnect and back-off after drops, stalls, HTTP errors and bad lines.
"""

from __future__ import annotations

import json
import time

import aiohttp
from tweepy import StreamRule

from tests.fake_x_api_support import ALICE, BOB, CAROL, STREAM_PATH, StreamRecorder, auth, wait_until
from tests.fakes.x_api import NO_RULES, TOO_MANY_CONNECTIONS, FakeX

# isort: split
# The shared fixtures: pytest finds them in the modules that import them.
from tests.fake_x_api_support import _loopback_only, fixture_backoff, fixture_fake, fixture_stream  # noqa: F401

# --- the filtered stream -------------------------------------------------------------------------


async def test_stream_delivers_matching_posts(fake: FakeX, stream: StreamRecorder) -> None:
    rules = await stream.add_rules(
        [StreamRule("from:alice", tag="alice"), StreamRule('"has fallen"', tag="phrase")]
    )
    alice_rule, phrase_rule = (rule.id for rule in rules.data)
    stream.filter(
        expansions=["author_id"],
        tweet_fields=["created_at", "lang", "author_id", "referenced_tweets"],
        user_fields=["verified"],
    )
    await fake.wait_for_stream()

    fake.post(CAROL, "nothing to see")
    both = fake.post(ALICE, "Kabul has fallen")
    fake.post(BOB, "Herat has fallen")
    await wait_until(lambda: len(stream.responses) == 2)

    first = stream.responses[0]
    assert (first.data.id, first.data.text) == (int(both["id"]), "Kabul has fallen")
    assert (first.data.author_id, first.data.lang) == (int(ALICE), "en")
    assert first.data.created_at is not None
    assert [(user.username, user.verified) for user in first.includes["users"]] == [("alice", True)]
    assert [(rule.id, rule.tag) for rule in first.matching_rules] == [
        (alice_rule, "alice"),
        (phrase_rule, "phrase"),
    ]
    second = stream.responses[1]
    assert [user.username for user in second.includes["users"]] == ["bob_official"]
    assert [rule.tag for rule in second.matching_rules] == ["phrase"]
    assert [json.loads(line) for line in stream.raw] == fake.stream_sent

    # A rule added while connected applies at once (X takes up to ~20 s; the fake does not wait).
    await stream.add_rules(StreamRule("calm"))
    fake.post(CAROL, "Mazar is calm")
    await wait_until(lambda: len(stream.responses) == 3)
    assert stream.responses[2].matching_rules[0].tag == ""

    await wait_until(lambda: stream.keep_alives >= 2)
    request = fake.calls(STREAM_PATH, "GET")[0]
    assert request.query["expansions"] == "author_id"
    assert request.status == 200
    assert fake.stream_connections == 1
    assert not stream.exceptions


async def test_stream_needs_rules_and_allows_one_connection(fake: FakeX, backoff: list[float]) -> None:
    async with StreamRecorder(fake.bearer_token, base_url=fake.url) as early:
        early.filter()
        await wait_until(lambda: early.request_errors)
        assert early.request_errors[0] == 409
        await wait_until(lambda: backoff)
        assert backoff[0] == 5
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.url + STREAM_PATH, headers=auth(fake)) as resp,
    ):
        assert resp.status == 409
        assert await resp.json() == NO_RULES

    fake.add_rule("from:alice")
    async with StreamRecorder(fake.bearer_token, base_url=fake.url) as first:
        first.filter()
        await fake.wait_for_stream()
        async with (
            aiohttp.ClientSession() as session,
            session.get(fake.url + STREAM_PATH, headers=auth(fake)) as resp,
        ):
            assert resp.status == 429
            assert await resp.json() == TOO_MANY_CONNECTIONS
            assert "x-rate-limit-remaining" in resp.headers
        backoff.clear()
        async with StreamRecorder(fake.bearer_token, base_url=fake.url) as second:
            second.filter()
            await wait_until(lambda: backoff)
            assert second.request_errors == [429]
            assert backoff == [60]
        assert first.connects == 1
        assert fake.stream_open


async def test_tweepy_reconnects_after_a_drop(
    fake: FakeX, stream: StreamRecorder, backoff: list[float]
) -> None:
    fake.add_rule("from:alice", tag="alice")
    stream.filter()
    await fake.wait_for_stream(1)
    fake.post(ALICE, "before the drop")
    await wait_until(lambda: len(stream.responses) == 1)

    fake.drop_stream(partial_line='{"data": {"id": "12')
    lost = fake.post(ALICE, "while reconnecting")
    await fake.wait_for_stream(2)
    after = fake.post(ALICE, "after the drop")
    await wait_until(lambda: len(stream.responses) == 2)

    assert stream.responses[1].data.id == int(after["id"])
    assert [message["data"]["id"] for message in fake.undelivered] == [lost["id"]]
    # tweepy: a ClientPayloadError, on_connection_error, a 0 s wait, a new connection.
    assert (stream.connection_errors, stream.connects, backoff) == (1, 2, [0])
    assert len(stream.raw) == 2  # the torn line never reached on_data
    assert not stream.exceptions


async def test_stall_is_detected_by_the_read_timeout(fake: FakeX) -> None:
    fake.add_rule("from:alice")
    async with StreamRecorder(fake.bearer_token, base_url=fake.url, stall_timeout=0.4) as watcher:
        watcher.filter()
        await fake.wait_for_stream(1)
        await wait_until(lambda: watcher.keep_alives >= 1)

        fake.stall_stream()
        lost = fake.post(ALICE, "during the stall")
        started = time.monotonic()
        await fake.wait_for_stream(2)
        assert time.monotonic() - started >= 0.35
        assert watcher.connection_errors == 1

        after = fake.post(ALICE, "after the stall")
        await wait_until(lambda: watcher.responses)
        assert [r.data.id for r in watcher.responses] == [int(after["id"])]
        assert fake.undelivered[0]["data"]["id"] == lost["id"]


async def test_http_errors_back_off_as_tweepy_does(
    fake: FakeX, stream: StreamRecorder, backoff: list[float]
) -> None:
    fake.add_rule("from:alice")
    fake.fail_next(STREAM_PATH, 503, count=2, exact=True)
    stream.filter()
    await fake.wait_for_stream(1)
    assert stream.request_errors == [503, 503]

    fake.fail_next(STREAM_PATH, 429, exact=True)
    fake.drop_stream()
    await fake.wait_for_stream(2)
    assert stream.request_errors == [503, 503, 429]
    # 5 s doubling per HTTP error, reset by a good connection; 0 s after a network error; 60 s after a 429.
    assert backoff == [5, 10, 0, 60]
    assert [r.status for r in fake.calls(STREAM_PATH, "GET")] == [503, 503, 200, 429, 200]


async def test_bad_lines_end_tweepys_stream_for_good(fake: FakeX, stream: StreamRecorder) -> None:
    fake.add_rule("from:alice")
    task = stream.filter()
    await fake.wait_for_stream(1)
    fake.send_raw("{not json")
    await wait_until(task.done)
    assert isinstance(stream.exceptions[0], json.JSONDecodeError)

    # A post without "text": tweepy's Tweet() raises KeyError; again no reconnect.
    task = stream.filter()
    await fake.wait_for_stream(2)
    fake.send_raw('{"data": {"id": "1460323737035677698"}}')
    await wait_until(task.done)
    assert isinstance(stream.exceptions[1], KeyError)
    assert fake.stream_connections == 2
    assert not fake.stream_open
