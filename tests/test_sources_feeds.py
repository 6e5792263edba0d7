"""RSS and Atom feeds read by the feed source against a fake web server publishing them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.sources.feeds import FeedSource
from bot.store.keys import Keys
from tests.conftest import Collected
from tests.fakes.feeds import FakeFeeds

REPORT = "Mazar-i-Sharif has fallen to the Taliban"


@pytest.fixture
async def feeds() -> AsyncIterator[FakeFeeds]:
    async with FakeFeeds(window=5) as fake:
        fake.add_feed("world", "rss", "World news")
        fake.add_feed("wire", "atom", "The wire", language="fr")
        yield fake


def reader(feeds: FakeFeeds, redis_client: aioredis.Redis, keys: Keys, got: Collected) -> FeedSource:
    """A feed source whose rounds the test runs itself (its own schedule is not started)."""
    source = FeedSource(
        redis_client, keys, [feeds.feed_url("world"), feeds.feed_url("wire", "atom")], 300, 0.01, 0.05
    )
    source.emit = got
    return source


async def test_a_new_feed_starts_from_its_newest_entry_and_later_entries_become_posts(
    feeds: FakeFeeds, redis_client: aioredis.Redis, namespace: str
) -> None:
    feeds.publish("world", "Old news", "from last week")
    got = Collected()
    source = reader(feeds, redis_client, Keys(namespace), got)
    assert await source.poll_round() == 0, "what was in the feed before watching began raises nothing"
    summary = "<p>Government forces fled to <b>Hayratan</b>.</p>"
    feeds.publish("world", REPORT, summary, "2021-08-14T15:42:00Z")
    feeds.publish("wire", "Mazar-i-Sharif est tombée", "", "2021-08-14T15:50:00Z", kind="atom")
    assert await source.poll_round() == 2
    rss, atom = got.posts
    assert rss.text == f"{REPORT}\n\nGovernment forces fled to Hayratan."
    assert (rss.author, rss.lang, rss.source) == (feeds.url.removeprefix("http://"), "en", "rss")
    assert rss.url is not None and rss.url.endswith("/world/articles/2")
    assert rss.created_at is not None and rss.created_at.hour == 15
    assert (atom.text, atom.lang) == ("Mazar-i-Sharif est tombée", "fr")
    await source.stop()


async def test_an_unchanged_feed_is_asked_conditionally_and_costs_a_304(
    feeds: FakeFeeds, redis_client: aioredis.Redis, namespace: str
) -> None:
    source = reader(feeds, redis_client, Keys(namespace), Collected())
    await source.poll_round()
    await source.poll_round()
    (first, _), (second, status) = feeds.reads("world")
    assert "If-None-Match" not in first
    assert second["If-None-Match"].startswith('"') and "If-Modified-Since" in second
    assert status == 304
    await source.stop()


async def test_a_server_asking_to_wait_is_left_alone_for_as_long_as_it_says(
    feeds: FakeFeeds, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    source = reader(feeds, redis_client, Keys(namespace), Collected())
    feeds.fail_next("world", 429, retry_after="120")
    with caplog.at_level(logging.WARNING):
        await source.poll_round()
        await source.poll_round()
    assert len(feeds.reads("world")) == 1, "no request before the 120 s are over"
    assert len(feeds.reads("wire", "atom")) == 2, "the other feed is read as usual"
    assert "asks to wait" in caplog.text and "asked to wait 120 s" in source.state().detail
    await source.stop()


async def test_a_dropped_connection_and_a_restart_miss_no_entry_and_repeat_none(
    feeds: FakeFeeds, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = reader(feeds, redis_client, Keys(namespace), got)
    await source.poll_round()
    feeds.publish("world", "one")
    feeds.drop_next("world")  # the retry with back-off reads it
    await source.poll_round()
    feeds.publish("world", "two")
    await source.stop()
    feeds.publish("world", "three")  # while the bot is down
    restarted = reader(feeds, redis_client, Keys(namespace), got)
    await restarted.poll_round()
    await restarted.poll_round()
    assert got.texts() == ["one", "two", "three"]
    assert [s for _, s in feeds.reads("world")][1:3] == [0, 200]
    await restarted.stop()


async def test_a_broken_feed_is_logged_trimmed_and_skipped_and_reading_goes_on(
    feeds: FakeFeeds, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    source = reader(feeds, redis_client, Keys(namespace), got)
    await source.poll_round()
    feeds.serve_raw_next("world", b"<html>" + b"x" * 5000)
    feeds.publish("world", "an entry whose link is far too long")
    feeds.feeds["/world.rss"].entries[0].link = "https://example.org/" + "a" * 3000
    with caplog.at_level(logging.WARNING):
        await source.poll_round()  # the broken document
        await source.poll_round()  # the feed again: its bad entry skipped
        feeds.publish("world", REPORT)
        await source.poll_round()
    assert got.texts() == [REPORT]
    assert source.skipped == 2
    assert "skipped a malformed feed" in caplog.text and "skipped a malformed feed entry" in caplog.text
    assert "x" * 400 not in caplog.text and "a" * 400 not in caplog.text
    assert source.state().healthy
    await source.stop()


async def test_a_feed_that_cannot_be_reached_shows_in_the_state_and_the_others_go_on(
    feeds: FakeFeeds, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = reader(feeds, redis_client, Keys(namespace), got)
    source.accounts.append(feeds.url + "/missing.rss")
    await source.poll_round()
    feeds.publish("world", REPORT)
    await source.poll_round()
    assert got.texts() == [REPORT]
    state = source.state()
    assert state.healthy and "missing.rss (HTTP 404" in state.detail
    await source.stop()
