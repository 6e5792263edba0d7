"""The fake X API v2's user timelines through tweepy's AsyncClient: order, fields, includes, paging,
what X refuses, rate limits and injected faults.
"""

from __future__ import annotations

import time
from datetime import datetime

import aiohttp
import pytest
from tweepy.asynchronous import AsyncPaginator
from tweepy.errors import BadRequest, Forbidden, TooManyRequests, TwitterServerError

from tests.fake_x_api_support import ALICE, BOB, ManualClock
from tests.fakes.x_api import TOO_MANY_REQUESTS, USER_TWEETS, FakeX, LocalAsyncClient

# isort: split
# The shared fixtures: pytest finds them in the modules that import them.
from tests.fake_x_api_support import _loopback_only, fixture_client, fixture_fake  # noqa: F401

# --- timelines -----------------------------------------------------------------------------------


async def test_timeline_is_newest_first_with_fields_and_includes(
    fake: FakeX, client: LocalAsyncClient
) -> None:
    first = fake.post(ALICE, "Taliban enter Kabul", created_at="2021-08-15T08:00:00.000Z")
    fake.post(
        BOB, "RT @alice: Taliban enter Kabul", referenced_tweets=[{"type": "retweeted", "id": first["id"]}]
    )
    reply = fake.post(
        ALICE,
        "Confirmed by two officials",
        lang="en",
        referenced_tweets=[{"type": "replied_to", "id": first["id"]}],
    )

    response = await client.get_users_tweets(
        ALICE,
        tweet_fields=["created_at", "lang", "author_id", "referenced_tweets"],
        expansions=["author_id", "referenced_tweets.id"],
        user_fields=["verified"],
    )

    assert [tweet.id for tweet in response.data] == [int(reply["id"]), int(first["id"])]
    newest = response.data[0]
    assert (newest.text, newest.lang, newest.author_id) == ("Confirmed by two officials", "en", int(ALICE))
    assert [(ref.type, ref.id) for ref in newest.referenced_tweets] == [("replied_to", int(first["id"]))]
    assert newest.created_at is not None
    assert response.data[1].created_at == datetime.fromisoformat("2021-08-15T08:00:00+00:00")
    assert [(user.username, user.verified) for user in response.includes["users"]] == [("alice", True)]
    assert [tweet.id for tweet in response.includes["tweets"]] == [int(first["id"])]
    assert response.meta == {"result_count": 2, "newest_id": reply["id"], "oldest_id": first["id"]}

    plain = await client.get_users_tweets(ALICE)
    assert set(plain.data[0].data) == {"id", "text", "edit_history_tweet_ids"}
    assert plain.includes == {}


async def test_timeline_since_id_and_pagination(fake: FakeX, client: LocalAsyncClient) -> None:
    posts = [fake.post(ALICE, f"update {n}") for n in range(12)]
    since = posts[2]["id"]

    pages = [
        page
        async for page in AsyncPaginator(
            client.get_users_tweets, ALICE, since_id=since, max_results=5, tweet_fields=["created_at"]
        )
    ]

    assert [len(page.data) for page in pages] == [5, 4]
    assert [t.id for page in pages for t in page.data] == [int(p["id"]) for p in reversed(posts[3:])]
    assert "next_token" in pages[0].meta
    assert "next_token" not in pages[1].meta
    assert pages[1].meta["previous_token"]
    calls = fake.calls(f"/2/users/{ALICE}/tweets")
    assert calls[1].query["pagination_token"] == pages[0].meta["next_token"]
    assert calls[1].query["since_id"] == since

    # What a poller does next: nothing new since the newest id it has seen.
    nothing = await client.get_users_tweets(ALICE, since_id=pages[0].meta["newest_id"])
    assert (nothing.data, nothing.meta) == (None, {"result_count": 0})
    newer = fake.post(ALICE, "update 12")
    fresh = await client.get_users_tweets(ALICE, since_id=pages[0].meta["newest_id"])
    assert [t.id for t in fresh.data] == [int(newer["id"])]


async def test_timeline_refuses_what_x_refuses(client: LocalAsyncClient) -> None:
    with pytest.raises(
        BadRequest, match=r"max_results` query parameter value \[3\] is not between 5 and 100"
    ):
        await client.get_users_tweets(ALICE, max_results=3)
    with pytest.raises(BadRequest, match=r"tweet.fields` query parameter value \[colour\] is not one of"):
        await client.get_users_tweets(ALICE, tweet_fields=["colour"])
    with pytest.raises(
        BadRequest, match=r"pagination_token` query parameter value \[nonsense\] is not valid"
    ):
        await client.get_users_tweets(ALICE, pagination_token="nonsense")
    unknown = await client.get_users_tweets("999")
    assert unknown.data is None
    assert unknown.errors[0]["detail"] == "Could not find user with id: [999]."


async def test_rate_limit_headers_and_exhaustion() -> None:
    clock = ManualClock(1_700_000_000.0)
    async with FakeX(clock=clock, rate_limits={USER_TWEETS: 2}) as fake:
        fake.add_user(ALICE, "alice")
        async with LocalAsyncClient(
            fake.bearer_token, base_url=fake.url, return_type=aiohttp.ClientResponse
        ) as api:
            remaining = []
            for _ in range(2):
                response = await api.get_users_tweets(ALICE)
                remaining.append(response.headers["x-rate-limit-remaining"])
                assert response.headers["x-rate-limit-limit"] == "2"
                assert response.headers["x-rate-limit-reset"] == "1700000900"
            assert remaining == ["1", "0"]

            with pytest.raises(TooManyRequests) as info:
                await api.get_users_tweets(ALICE)
            assert info.value.reset_time == 1_700_000_900
            assert info.value.response.headers["x-rate-limit-remaining"] == "0"
            assert await info.value.response.json() == TOO_MANY_REQUESTS

            clock.now += 900
            again = await api.get_users_tweets(ALICE)
            assert again.headers["x-rate-limit-remaining"] == "1"
            assert again.headers["x-rate-limit-reset"] == "1700001800"


async def test_injected_timeline_faults(fake: FakeX, client: LocalAsyncClient) -> None:
    reset = int(time.time()) + 30
    fake.fail_next(f"/2/users/{ALICE}/tweets", 429, headers={"x-rate-limit-reset": str(reset)})
    with pytest.raises(TooManyRequests) as info:
        await client.get_users_tweets(ALICE)
    assert info.value.reset_time == reset
    assert info.value.response.headers["x-rate-limit-remaining"] == "0"

    fake.fail_next("/2/users/", 503)
    with pytest.raises(TwitterServerError):
        await client.get_users_tweets(ALICE)

    fake.fail_next(
        "/2/users/", 403, body={"title": "Forbidden", "detail": "Suspended app", "type": "about:blank"}
    )
    with pytest.raises(Forbidden) as forbidden:
        await client.get_users_tweets(ALICE)
    assert forbidden.value.api_messages == ["Suspended app"]

    assert (await client.get_users_tweets(ALICE)).meta == {"result_count": 0}
    assert [r.status for r in fake.calls("/2/users/")] == [429, 503, 403, 200]


async def test_wait_on_rate_limit_sleeps_until_the_reset_header(fake: FakeX) -> None:
    fake.post(ALICE, "still here")
    fake.fail_next("/2/users/", 429, headers={"x-rate-limit-reset": str(int(time.time()))})
    async with LocalAsyncClient(fake.bearer_token, base_url=fake.url, wait_on_rate_limit=True) as patient:
        response = await patient.get_users_tweets(ALICE)
    assert response.data[0].text == "still here"
    assert [r.status for r in fake.calls("/2/users/")] == [429, 200]
