"""Bluesky through Jetstream: the source against fake Jetstream instances and a fake AppView."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.sources.bluesky import BlueskySource
from bot.store.keys import Keys
from tests.conftest import Collected, eventually
from tests.fakes.jetstream import BlueskyNetwork, FakeAppView, FakeJetstream

BILAL = "bilalsarwary.bsky.social"
TOLO = "tolonews.bsky.social"
REPORT = "The city of Mazari Sharif has fallen into the hands of Taliban."


class Sky:
    def __init__(self, network: BlueskyNetwork, stream: FakeJetstream, appview: FakeAppView) -> None:
        self.network, self.stream, self.appview = network, stream, appview
        self.bilal = network.add_account(BILAL)
        self.tolo = network.add_account(TOLO)
        self.other = network.add_account("someone.else.social")


@pytest.fixture
async def sky() -> AsyncIterator[Sky]:
    network = BlueskyNetwork()
    async with FakeJetstream(network) as stream, FakeAppView(network) as appview:
        yield Sky(network, stream, appview)


def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"ws://127.0.0.1:{s.getsockname()[1]}/subscribe"


async def watching(
    sky: Sky, redis_client: aioredis.Redis, namespace: str, got: Collected, urls: list[str] | None = None
) -> BlueskySource:
    source = BlueskySource(
        urls or [sky.stream.ws_url], sky.appview.url, redis_client, Keys(namespace), [BILAL, TOLO], 0.05, 0.2
    )
    await source.start(got)
    return source


async def test_posts_and_reposts_of_watched_accounts_arrive_with_author_language_and_link(
    sky: Sky, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = await watching(sky, redis_client, namespace, got)
    await sky.stream.wait_for_subscriber()
    asked = sky.stream.connections[0]
    assert asked["query"]["requireHello"] == "true", "the DIDs go in an options_update, not the URL"
    assert sorted(asked["options"]["wantedDids"]) == sorted([sky.bilal, sky.tolo])
    uri = sky.network.post(sky.bilal, REPORT, langs=["en"], created_at="2021-08-14T15:42:00.000Z")
    sky.network.post(sky.other, "not watched: never asked for")
    sky.network.repost(sky.tolo, uri)
    await eventually(lambda: len(got.posts) == 2, what="the post and the repost")
    post, repost = got.posts
    assert (post.author, post.lang, post.source, post.text) == (BILAL, "en", "bluesky", REPORT)
    assert post.created_at is not None and post.created_at.hour == 15
    assert post.url == f"https://bsky.app/profile/{BILAL}/post/{uri.rsplit('/', 1)[1]}"
    assert (repost.author, repost.text, repost.url) == (TOLO, REPORT, post.url)
    assert [(r.type, r.id) for r in repost.refs] == [("retweeted", uri)]
    assert source.state().healthy and "connected to 127.0.0.1" in source.state().detail
    await source.stop()


async def test_a_dropped_connection_resumes_from_the_cursor_missing_and_doubling_nothing(
    sky: Sky, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = await watching(sky, redis_client, namespace, got)
    await sky.stream.wait_for_subscriber()
    sky.network.post(sky.bilal, "one")
    await eventually(lambda: got.texts() == ["one"], what="the first post")
    sky.stream.drop_connections()
    sky.network.post(sky.bilal, "two")  # while the connection is down
    await sky.stream.wait_for_subscriber(connections=2)
    sky.network.post(sky.tolo, "three")
    await eventually(lambda: len(got.posts) >= 3, what="the posts after the drop")
    assert got.texts() == ["one", "two", "three"]
    assert "cursor" in sky.stream.connections[1]["query"]
    assert source.reconnects == 1
    await source.stop()


async def test_a_restart_resumes_where_the_last_run_stopped(
    sky: Sky, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    first = await watching(sky, redis_client, namespace, got)
    await sky.stream.wait_for_subscriber()
    sky.network.post(sky.bilal, "before the restart")
    await eventually(lambda: len(got.posts) == 1, what="the first post")
    await first.stop()
    sky.network.post(sky.bilal, "while the bot was down")
    second = await watching(sky, redis_client, namespace, got)
    await sky.stream.wait_for_subscriber(connections=2)
    sky.network.post(sky.tolo, "after the restart")
    await eventually(lambda: len(got.posts) >= 3, what="the posts after the restart")
    assert got.texts() == ["before the restart", "while the bot was down", "after the restart"]
    assert sky.appview.calls.count("com.atproto.identity.resolveHandle") == 2, "DIDs cached in Redis"
    await second.stop()


async def test_an_unreachable_instance_fails_over_to_the_next(
    sky: Sky, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    async with FakeJetstream(sky.network, skew_us=-2_000_000) as backup:
        source = await watching(sky, redis_client, namespace, got, [closed_url(), backup.ws_url])
        await backup.wait_for_subscriber()
        sky.network.post(sky.bilal, REPORT)
        await eventually(lambda: got.texts() == [REPORT], what="the post through the second instance")
        assert not sky.stream.connections
        await source.stop()


async def test_a_malformed_event_is_logged_trimmed_and_skipped_and_the_stream_goes_on(
    sky: Sky, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    source = await watching(sky, redis_client, namespace, got)
    await sky.stream.wait_for_subscriber()
    with caplog.at_level(logging.WARNING):
        sky.stream.send_raw("{not json" + "x" * 1000)
        sky.stream.send_raw('{"did": "' + sky.bilal + '", "time_us": 5, "kind": "commit", "commit": {}}')
        bad = {"$type": "app.bsky.feed.post", "text": 12, "createdAt": "yesterday"}
        commit = {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "x", "record": bad}
        sky.stream.send_raw(json.dumps({"did": sky.bilal, "time_us": 6, "kind": "commit", "commit": commit}))
        sky.network.post(sky.bilal, "a good one")
        await eventually(lambda: got.texts() == ["a good one"], what="the good post")
    assert source.skipped == 3
    assert "skipped a malformed event" in caplog.text and "x" * 400 not in caplog.text
    await source.stop()


async def test_accounts_added_on_reload_are_asked_for_on_the_open_connection(
    sky: Sky, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = await watching(sky, redis_client, namespace, got)
    await sky.stream.wait_for_subscriber()
    await source.watch([BILAL, TOLO, "someone.else.social"])
    await eventually(lambda: sky.other in sky.stream.connections[0]["options"]["wantedDids"], what="options")
    sky.network.post(sky.other, "now watched")
    await eventually(lambda: got.texts() == ["now watched"], what="the new account's post")
    assert len(sky.stream.connections) == 1
    await source.stop()


async def test_an_unknown_handle_is_reported_and_the_whole_network_is_never_asked_for(
    sky: Sky, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    source = BlueskySource(
        [sky.stream.ws_url], sky.appview.url, redis_client, Keys(namespace), ["nobody.bsky.social"], 0.05, 0.2
    )
    with caplog.at_level(logging.ERROR):
        await source.start(Collected())
        await eventually(lambda: bool(source.unknown), what="the lookup")
    assert "Bluesky has no account nobody.bsky.social" in caplog.text
    assert "nobody.bsky.social" in source.state().detail
    assert sky.stream.connections == [], "an empty wantedDids would be every account on Bluesky"
    await source.stop()
