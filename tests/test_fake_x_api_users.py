"""The fake X API v2 through tweepy's AsyncClient: the clients reach only the fake, users are looked up
by username as on X, and a wrong token gets X's 401.
"""

from __future__ import annotations

from datetime import datetime

import aiohttp
import pytest
from tweepy.errors import BadRequest, Unauthorized
from yarl import URL

from tests.fake_x_api_support import ALICE, RULES_PATH
from tests.fakes.x_api import FakeX, LocalAsyncClient, redirect_url, tweepy_clients_for

# isort: split
# The shared fixtures: pytest finds them in the modules that import them.
from tests.fake_x_api_support import _loopback_only, fixture_client, fixture_fake  # noqa: F401

# --- redirection ---------------------------------------------------------------------------------


async def test_tweepy_clients_reach_only_the_fake(fake: FakeX) -> None:
    api, streamer = tweepy_clients_for(fake.url, fake.bearer_token)
    async with api, streamer:
        assert (await api.get_user(username="alice")).data.username == "alice"
        assert (await streamer.get_rules()).meta["result_count"] == 0
        assert api.session is not None
        with pytest.raises(ValueError, match=r"refusing to send a request to https://example\.org"):
            await api.session.get("https://example.org/")
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/2/users/by/username/alice"),
        ("GET", RULES_PATH),
    ]
    local = URL(fake.url)
    assert redirect_url(URL("https://api.x.com/2/users?ids=1,2"), local) == local.with_path(
        "/2/users"
    ).with_query(ids="1,2")


# --- users ---------------------------------------------------------------------------------------


async def test_users_by_username_and_usernames(client: LocalAsyncClient) -> None:
    one = await client.get_user(username="ALICE", user_fields=["created_at", "verified"])
    assert (one.data.id, one.data.username, one.data.name) == (int(ALICE), "alice", "Alice Reporter")
    assert one.data.verified is True
    assert isinstance(one.data.created_at, datetime)
    assert one.errors == []

    many = await client.get_users(usernames=["alice", "nobody", "bob_official"])
    assert [user.username for user in many.data] == ["alice", "bob_official"]
    assert many.errors == [
        {
            "value": "nobody",
            "detail": "Could not find user with usernames: [nobody].",
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": "usernames",
            "resource_id": "nobody",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ]

    missing = await client.get_user(username="nobody")
    assert missing.data is None
    assert missing.errors[0]["detail"] == "Could not find user with username: [nobody]."

    with pytest.raises(BadRequest, match=r"does not match \^\[A-Za-z0-9_\]\{1,15\}\$"):
        await client.get_user(username="not-a-username")


async def test_another_token_gets_x_401(fake: FakeX) -> None:
    async with LocalAsyncClient("some-other-token", base_url=fake.url) as stranger:
        with pytest.raises(Unauthorized) as info:
            await stranger.get_user(username="alice")
    assert info.value.response.status == 401
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.url}/2/users/by/username/alice", headers={"Authorization": "Bearer x"}) as resp,
    ):
        assert resp.status == 401
        assert await resp.json() == {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        }
    assert [r.status for r in fake.requests] == [401, 401]
