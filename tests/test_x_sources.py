"""The X sources, driving tweepy's real asyncio clients against the fake X API v2 server."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.sources.x_stream import XStreamSource
from bot.sources.x_timeline import XTimelinePoller
from bot.store.keys import Keys
from tests.conftest import Collected, eventually
from tests.fakes.x_api import BEARER_TOKEN, USER_TWEETS, FakeX, scaled_stream_backoff

ACCOUNTS = ["BilalSarwary", "TOLOnews"]


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    async with FakeX(keepalive_seconds=0.2) as fake:
        fake.add_user("1001", "BilalSarwary")
        fake.add_user("1002", "TOLOnews")
        yield fake


async def next_round(poller: XTimelinePoller) -> int:
    """A round once the spacing from the rate-limit headers has passed (the scheduler's job)."""
    poller.next_round_at = 0.0
    return await poller.poll_all(ACCOUNTS)


def polling(
    fake_x: FakeX, redis_client: aioredis.Redis, keys: Keys, got: Collected, budget: int = 10_000
) -> XTimelinePoller:
    """A poller whose rounds the test runs itself (its own schedule is not started)."""
    poller = XTimelinePoller(BEARER_TOKEN, fake_x.url, redis_client, keys, ACCOUNTS, budget)
    poller.emit = got
    return poller


@pytest.fixture
async def stream(fake_x: FakeX) -> AsyncIterator[tuple[XStreamSource, Collected]]:
    got = Collected()
    source = XStreamSource(BEARER_TOKEN, fake_x.url, ACCOUNTS, stall_seconds=1.5)
    await source.start(got)
    await fake_x.wait_for_stream()
    yield source, got
    await source.stop()


async def test_stream_rules_are_synced_by_diff_and_other_tools_rules_are_kept(fake_x: FakeX) -> None:
    fake_x.add_rule("cats OR dogs", "another-tool")
    fake_x.add_rule("from:TOLOnews", "frontwatch:accounts:9")
    source = XStreamSource(BEARER_TOKEN, fake_x.url, ACCOUNTS)
    first = await source.sync_rules(ACCOUNTS)
    assert (len(first.add), len(first.delete_ids)) == (1, 1)
    assert sorted(r["value"] for r in fake_x.rules) == ["cats OR dogs", "from:BilalSarwary OR from:TOLOnews"]
    again = await source.sync_rules(ACCOUNTS)
    assert (again.add, again.delete_ids, again.keep) == ([], [], 1)
    await source.client.session.close()


async def test_streamed_posts_carry_author_language_time_references_and_link(
    fake_x: FakeX, stream: tuple[XStreamSource, Collected]
) -> None:
    _, got = stream
    fake_x.post(
        "1001",
        "The city of Mazari Sharif has fallen into the hands of Taliban.",
        lang="en",
        created_at="2021-08-14T15:42:00.000Z",
    )
    fake_x.post(
        "1002",
        "RT @BilalSarwary: The city of Mazari Sharif has fallen",
        lang="en",
        referenced_tweets=[{"type": "retweeted", "id": "1"}],
    )
    await eventually(lambda: len(got.posts) == 2, what="two streamed posts")
    first, second = got.posts
    assert (first.author, first.lang, first.source) == ("BilalSarwary", "en", "x-stream")
    assert first.created_at is not None and first.created_at.hour == 15
    assert first.url == f"https://x.com/BilalSarwary/status/{first.id}"
    assert [(r.type, r.id) for r in second.refs] == [("retweeted", "1")]


async def test_a_dropped_connection_is_reopened_and_later_posts_still_arrive(
    fake_x: FakeX, stream: tuple[XStreamSource, Collected]
) -> None:
    source, got = stream
    fake_x.post("1001", "before the drop")
    await eventually(lambda: len(got.posts) == 1, what="the first post")
    fake_x.drop_stream()
    await fake_x.wait_for_stream(connections=2)
    fake_x.post("1001", "after the drop")
    await eventually(lambda: got.texts() == ["before the drop", "after the drop"], what="the second post")
    assert source.stats.reconnects >= 1


async def test_a_stalled_stream_is_dropped_and_reopened(
    fake_x: FakeX, stream: tuple[XStreamSource, Collected]
) -> None:
    source, got = stream
    fake_x.stall_stream()
    await fake_x.wait_for_stream(connections=2, timeout=10)
    fake_x.post("1002", "after the stall")
    await eventually(lambda: got.texts() == ["after the stall"], what="a post after the stall")
    assert source.stats.reconnects >= 1


async def test_malformed_payloads_are_logged_trimmed_and_skipped(
    fake_x: FakeX, stream: tuple[XStreamSource, Collected], caplog: pytest.LogCaptureFixture
) -> None:
    source, got = stream
    with caplog.at_level(logging.WARNING):
        fake_x.send_raw("{not json" + "x" * 1000)
        fake_x.send_raw('{"data": {"id": "77"}}')
        fake_x.post("1001", "a good one")
        await eventually(lambda: got.texts() == ["a good one"], what="the good post")
    assert source.stats.malformed == 2
    assert "skipped a malformed payload" in caplog.text
    assert "x" * 400 not in caplog.text


async def test_a_wrong_token_stops_the_stream_with_a_clear_line_and_no_token_in_it(
    fake_x: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    source = XStreamSource("not-the-token", fake_x.url, ACCOUNTS)
    with caplog.at_level(logging.ERROR):
        await source.start(Collected())
        await eventually(lambda: bool(source.stats.stopped_reason), what="the stream to stop")
    assert "refused the bearer token (HTTP 401)" in source.stats.stopped_reason
    assert not source.state().healthy and "X_BEARER_TOKEN" in source.state().detail
    assert "not-the-token" not in caplog.text
    await source.stop()


async def test_an_unreachable_x_is_reported_down_and_retried_until_it_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    got = Collected()
    async with FakeX(keepalive_seconds=0.2) as fake:
        fake.add_user("1001", "BilalSarwary")
        url = fake.url
    # Nothing listens there now; down at once, without the two minutes a reconnect is given.
    source = XStreamSource(BEARER_TOKEN, url, ACCOUNTS, down_after_seconds=0)
    with caplog.at_level(logging.WARNING):
        await source.start(got)
        await eventually(lambda: "cannot sync stream rules" in source.state().detail, what="down")
        assert not source.state().healthy
        back = FakeX(keepalive_seconds=0.2)
        back.port_wanted = int(url.rsplit(":", 1)[1])
        async with back:
            back.add_user("1001", "BilalSarwary")
            await back.wait_for_stream(timeout=30)
            back.post("1001", "through once X is back")
            await eventually(lambda: got.texts() == ["through once X is back"], what="a post")
            assert source.state().healthy
            await source.stop()
    assert "retry #1" in caplog.text


async def test_a_restarted_poller_resumes_from_its_since_id(
    fake_x: FakeX, redis_client: aioredis.Redis, namespace: str
) -> None:
    fake_x.post("1001", "old news, before watching began")
    got = Collected()
    keys = Keys(namespace)
    first = polling(fake_x, redis_client, keys, got)
    assert await next_round(first) == 0  # watching starts now
    fake_x.post("1001", "one")
    fake_x.post("1002", "two")
    assert await next_round(first) == 2
    await first.stop()
    fake_x.post("1001", "three")
    restarted = polling(fake_x, redis_client, keys, got)
    assert await next_round(restarted) == 1
    await restarted.stop()
    assert got.texts() == ["one", "two", "three"]
    lookups = fake_x.calls("/2/users/by/username")
    assert len(lookups) == 2, "each account's user id is looked up once and kept in Redis"


async def test_a_429_pauses_polling_until_the_reset_time(
    fake_x: FakeX, redis_client: aioredis.Redis, namespace: str
) -> None:
    poller = polling(fake_x, redis_client, Keys(namespace), Collected())
    await next_round(poller)
    reset = int(time.time()) + 600
    fake_x.fail_next(
        "/2/users/", 429, headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}
    )
    assert await next_round(poller) == 0
    assert poller.paused_until == reset
    calls = len(fake_x.requests)
    assert await next_round(poller) == 0
    assert len(fake_x.requests) == calls, "no request while paused"
    await poller.stop()
    assert USER_TWEETS


async def test_the_monthly_read_budget_stops_polling_when_spent(
    fake_x: FakeX, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    poller = polling(fake_x, redis_client, Keys(namespace), got, budget=2)
    await next_round(poller)
    for n in range(3):
        fake_x.post("1001", f"post {n}")
    with caplog.at_level(logging.WARNING):
        await next_round(poller)
        fake_x.post("1001", "one more")
        assert await next_round(poller) == 0
    assert "read budget" in caplog.text
    await poller.stop()


async def test_polls_are_spaced_by_what_the_rate_limit_headers_leave(
    fake_x: FakeX, redis_client: aioredis.Redis, namespace: str
) -> None:
    fake_x.set_rate_limit(USER_TWEETS, 4)  # 4 timeline reads per 15 minutes, two accounts
    poller = polling(fake_x, redis_client, Keys(namespace), Collected())
    await poller.poll_all(ACCOUNTS)
    assert poller.next_round_at > time.time() + 60, "the rest of the window is spread over the rounds left"
    calls = len(fake_x.requests)
    assert await poller.poll_all(ACCOUNTS) == 0
    assert len(fake_x.requests) == calls
    await poller.stop()


async def test_http_errors_and_429s_on_the_stream_are_backed_off_as_x_documents(fake_x: FakeX) -> None:
    got = Collected()
    source = XStreamSource(BEARER_TOKEN, fake_x.url, ACCOUNTS)
    fake_x.fail_next("/2/tweets/search/stream", 503, exact=True)
    fake_x.fail_next(
        "/2/tweets/search/stream", 429, exact=True, headers={"x-rate-limit-reset": str(int(time.time()) + 60)}
    )
    with scaled_stream_backoff(0.01) as delays:
        await source.start(got)
        await fake_x.wait_for_stream(timeout=10)
        fake_x.post("1001", "through at last")
        await eventually(lambda: got.texts() == ["through at last"], what="a post after the errors")
    await source.stop()
    assert delays[:2] == [5, 60], "5 s after an HTTP error, at least 60 s after a 429"
    assert source.stats.reconnects == 2
