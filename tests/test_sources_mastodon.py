"""Mastodon public timelines read by the Mastodon source against a fake Mastodon REST API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.sources.mastodon import MastodonSource
from bot.store.keys import Keys
from tests.conftest import Collected
from tests.fakes.mastodon_api import FakeMastodon

REPORT = "Mazar-i-Sharif has fallen to the Taliban.\n\nGovernment forces fled to Hayratan."


@pytest.fixture
async def server() -> AsyncIterator[FakeMastodon]:
    async with FakeMastodon() as fake:
        fake.add_account("bilal")
        fake.add_account("tolo")
        yield fake


def reader(server: FakeMastodon, redis_client: aioredis.Redis, keys: Keys, got: Collected) -> MastodonSource:
    """A source whose rounds the test runs itself (its own schedule is not started)."""
    profiles = [server.profile("bilal"), server.profile("tolo")]
    source = MastodonSource(redis_client, keys, profiles, 60, retry_first=0.01, retry_max=0.05)
    source.emit = got
    return source


async def test_an_account_starts_from_its_newest_status_and_new_ones_become_plain_text_posts(
    server: FakeMastodon, redis_client: aioredis.Redis, namespace: str
) -> None:
    server.post("bilal", "last week's news")
    got = Collected()
    source = reader(server, redis_client, Keys(namespace), got)
    assert await source.poll_round() == 0, "statuses from before watching began raise nothing"
    status = server.post("bilal", REPORT, created_at="2021-08-14T15:42:00.000Z")
    server.post("tolo", "", reblog_of=status)
    assert await source.poll_round() == 2
    post, boost = got.posts
    host = server.url.removeprefix("http://")
    assert (post.text, post.author, post.lang, post.source) == (REPORT, f"bilal@{host}", "en", "mastodon")
    assert (post.id, post.url) == (status["uri"], status["url"])
    assert post.created_at is not None and post.created_at.hour == 15
    assert (boost.text, boost.author, boost.url) == (REPORT, f"tolo@{host}", status["url"])
    assert [(r.type, r.id) for r in boost.refs] == [("retweeted", status["uri"])]
    await source.stop()


async def test_many_statuses_since_the_last_poll_are_all_read_oldest_first(
    server: FakeMastodon, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = reader(server, redis_client, Keys(namespace), got)
    await source.poll_round()
    for n in range(95):
        server.post("bilal", f"update {n}")
    await source.poll_round()
    assert got.texts() == [f"update {n}" for n in range(95)]
    assert all("min_id" in q for q in server.reads("bilal")[1:]), "min_id pages leave no gap"
    await source.stop()


async def test_a_dropped_connection_and_a_restart_miss_no_status_and_repeat_none(
    server: FakeMastodon, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = reader(server, redis_client, Keys(namespace), got)
    await source.poll_round()
    server.post("bilal", "one")
    server.drop_next()  # the retry with back-off reads it
    await source.poll_round()
    await source.stop()
    server.post("tolo", "two")  # while the bot is down
    restarted = reader(server, redis_client, Keys(namespace), got)
    await restarted.poll_round()
    await restarted.poll_round()
    assert got.texts() == ["one", "two"]
    await restarted.stop()


async def test_a_rate_limited_server_is_left_alone_until_its_window_resets(
    server: FakeMastodon, redis_client: aioredis.Redis, namespace: str
) -> None:
    source = reader(server, redis_client, Keys(namespace), Collected())
    await source.poll_round()
    server.fail_next(429)
    before = len(server.requests)
    await source.poll_round()
    await source.poll_round()
    assert len(server.requests) == before + 3, "bilal got the 429 and waits; tolo is read twice"
    assert "asked to wait" in source.state().detail
    await source.stop()


async def test_a_server_requiring_a_token_gets_it_and_no_other_server_does(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    async with FakeMastodon(token="s3cret") as closed, FakeMastodon() as open_server:
        closed.add_account("bilal")
        open_server.add_account("tolo")
        got = Collected()
        tokens = {closed.url.removeprefix("http://"): "s3cret"}
        profiles = [closed.profile("bilal"), open_server.profile("tolo")]
        source = MastodonSource(redis_client, Keys(namespace), profiles, 60, tokens)
        source.emit = got
        await source.poll_round()
        closed.post("bilal", REPORT)
        await source.poll_round()
        assert got.texts() == [REPORT]
        assert all("Authorization" not in headers for _, _, headers in open_server.requests)
        await source.stop()


async def test_a_malformed_status_is_logged_trimmed_and_skipped_and_the_rest_are_read(
    server: FakeMastodon, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    source = reader(server, redis_client, Keys(namespace), got)
    await source.poll_round()
    bad = server.post("bilal", "will be broken")
    bad["created_at"] = "not a time" + "x" * 1000
    server.post("bilal", REPORT)
    server.serve_raw_next(b"{not json")
    with caplog.at_level(logging.WARNING):
        await source.poll_round()  # the raw body: bilal's read fails this round
        await source.poll_round()
    assert got.texts() == [REPORT]
    assert source.skipped == 1 and "skipped a malformed status" in caplog.text
    assert "x" * 400 not in caplog.text
    await source.stop()
