"""The fake X API v2, driven by the real tweepy async clients over HTTP on 127.0.0.1.

If these pass, a test of the bot that points tweepy at `FakeX` sees what it would see from X: the same
objects, the same exceptions, and tweepy's own reconnect and back-off behaviour on the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from tweepy import StreamRule
from tweepy.asynchronous import AsyncPaginator
from tweepy.errors import BadRequest, Forbidden, TooManyRequests, TwitterServerError, Unauthorized
from yarl import URL

from tests.fakes.x_api import (
    NO_RULES,
    TOO_MANY_CONNECTIONS,
    TOO_MANY_REQUESTS,
    USER_TWEETS,
    FakeX,
    LocalAsyncClient,
    LocalAsyncStreamingClient,
    RuleError,
    compile_rule,
    redirect_url,
    scaled_stream_backoff,
    tweepy_clients_for,
)

ALICE = "1001"
BOB = "1002"
CAROL = "1003"
STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ManualClock:
    """Epoch seconds the test moves, so 15-minute rate-limit windows pass instantly."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class StreamRecorder(LocalAsyncStreamingClient):
    """A streaming client that records what tweepy's callbacks report."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responses: list[Any] = []
        self.raw: list[bytes] = []
        self.connects = 0
        self.keep_alives = 0
        self.connection_errors = 0
        self.request_errors: list[int] = []
        self.exceptions: list[Exception] = []

    async def on_connect(self) -> None:
        self.connects += 1

    async def on_data(self, raw_data: bytes) -> None:
        self.raw.append(raw_data)
        await super().on_data(raw_data)

    async def on_response(self, response: Any) -> None:
        self.responses.append(response)

    async def on_keep_alive(self) -> None:
        self.keep_alives += 1

    async def on_connection_error(self) -> None:
        self.connection_errors += 1

    async def on_request_error(self, status_code: int) -> None:
        self.request_errors.append(status_code)

    async def on_exception(self, exception: Exception) -> None:
        self.exceptions.append(exception)


async def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name lookup or a connection for anything but loopback fails the test instead of leaving.

    aiohttp resolves names with loop.getaddrinfo and connects sockets with loop.sock_connect
    (through aiohappyeyeballs): both are guarded.
    """
    resolve = asyncio.base_events.BaseEventLoop.getaddrinfo
    connect = asyncio.selector_events.BaseSelectorEventLoop.sock_connect

    def check(host: object) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            raise AssertionError(f"a test tried to reach {name}")

    async def getaddrinfo(self: asyncio.AbstractEventLoop, host: Any, *args: Any, **kwargs: Any) -> Any:
        check(host)
        return await resolve(self, host, *args, **kwargs)  # type: ignore[arg-type]

    async def sock_connect(self: asyncio.AbstractEventLoop, sock: Any, address: Any) -> None:
        check(address[0])
        await connect(self, sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(asyncio.selector_events.BaseSelectorEventLoop, "sock_connect", sock_connect)


@pytest.fixture
async def fake() -> AsyncIterator[FakeX]:
    async with FakeX(keepalive_seconds=0.1) as server:
        server.add_user(ALICE, "alice", "Alice Reporter", verified=True)
        server.add_user(BOB, "bob_official", "Bob Official")
        server.add_user(CAROL, "carol")
        yield server


@pytest.fixture
async def client(fake: FakeX) -> AsyncIterator[LocalAsyncClient]:
    async with LocalAsyncClient(fake.bearer_token, base_url=fake.url) as api:
        yield api


@pytest.fixture
async def stream(fake: FakeX) -> AsyncIterator[StreamRecorder]:
    async with StreamRecorder(fake.bearer_token, base_url=fake.url, stall_timeout=5.0) as recorder:
        yield recorder


@pytest.fixture
def backoff() -> Iterator[list[float]]:
    """tweepy's stream back-off at 1/100 speed; the list holds the delays tweepy asked for."""
    with scaled_stream_backoff(0.01) as delays:
        yield delays


def auth(fake: FakeX) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.bearer_token}"}


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


# --- stream rules --------------------------------------------------------------------------------


async def test_rules_add_list_delete(fake: FakeX, stream: StreamRecorder) -> None:
    added = await stream.add_rules(
        [StreamRule("from:alice OR from:bob_official", tag="officials"), StreamRule('"has fallen"')]
    )
    assert added.meta["summary"] == {"created": 2, "not_created": 0, "valid": 2, "invalid": 0}
    assert [(rule.value, rule.tag) for rule in added.data] == [
        ("from:alice OR from:bob_official", "officials"),
        ('"has fallen"', None),
    ]
    assert fake.calls(RULES_PATH, "POST")[0].json == {
        "add": [{"value": "from:alice OR from:bob_official", "tag": "officials"}, {"value": '"has fallen"'}]
    }

    listed = await stream.get_rules()
    assert listed.data == added.data
    assert listed.meta["result_count"] == 2
    assert listed.meta["sent"].endswith("Z")
    assert fake.rules == [
        {"id": added.data[0].id, "value": "from:alice OR from:bob_official", "tag": "officials"},
        {"id": added.data[1].id, "value": '"has fallen"'},
    ]

    deleted = await stream.delete_rules([added.data[0].id, "1234"])
    assert deleted.meta["summary"] == {"deleted": 1, "not_deleted": 1}
    assert deleted.errors[0]["errors"] == [{"parameters": {}, "message": "Rule does not exist"}]
    await stream.delete_rules(added.data[1])
    empty = await stream.get_rules()
    assert (empty.data, empty.meta["result_count"]) == (None, 0)


async def test_rules_refused_like_x(fake: FakeX, stream: StreamRecorder) -> None:
    kept = (await stream.add_rules(StreamRule("from:alice"))).data[0]

    duplicate = await stream.add_rules(StreamRule("from:alice", tag="again"))
    assert duplicate.data is None
    assert duplicate.errors == [
        {
            "value": "from:alice",
            "id": kept.id,
            "title": "DuplicateRule",
            "type": "https://api.twitter.com/2/problems/duplicate-rules",
        }
    ]
    assert duplicate.meta["summary"] == {"created": 0, "not_created": 1, "valid": 0, "invalid": 1}

    # All or nothing: the valid rule of a request with an invalid one is not created either.
    mixed = await stream.add_rules([StreamRule("(from:alice OR from:bob_official"), StreamRule("kabul")])
    assert mixed.meta["summary"] == {"created": 0, "not_created": 2, "valid": 1, "invalid": 1}
    assert mixed.errors[0]["title"] == "UnprocessableEntity"
    assert mixed.errors[0]["type"] == "https://api.twitter.com/2/problems/invalid-rules"
    assert "Unbalanced parentheses" in mixed.errors[0]["details"][0]

    too_long = await stream.add_rules(StreamRule("kabul OR " + "x" * 510))
    assert "the limit is 512 characters" in too_long.errors[0]["details"][0]

    fake.max_rules = 2
    capped = await stream.add_rules([StreamRule("herat"), StreamRule("kandahar")])
    assert capped.errors[0]["title"] == "RulesCapExceeded"
    assert capped.errors[0]["type"] == "https://api.twitter.com/2/problems/rule-cap"

    # tweepy passes dry_run through as is, and aiohttp refuses a bool in a query: send the string.
    dry = await stream.add_rules(StreamRule("herat"), dry_run="true")
    assert dry.meta["summary"]["created"] == 1
    assert [rule["value"] for rule in fake.rules] == ["from:alice"]


@pytest.mark.parametrize(
    ("rule", "author", "text", "lang", "expected"),
    [
        ('(from:alice OR from:bob_official) (fallen OR "has fallen")', ALICE, "Kabul has fallen", "en", True),
        ('(from:alice OR from:bob_official) (fallen OR "has fallen")', BOB, "FALLEN: Herat", "en", True),
        (
            '(from:alice OR from:bob_official) (fallen OR "has fallen")',
            CAROL,
            "Kabul has fallen",
            "en",
            False,
        ),
        ('(from:alice OR from:bob_official) (fallen OR "has fallen")', ALICE, "Kabul is calm", "en", False),
        ('"has fallen"', CAROL, "fallen it has", "en", False),
        ("kabul OR herat fallen", CAROL, "Kabul is calm", "en", True),
        ("kabul OR herat fallen", CAROL, "Herat is calm", "en", False),
        ("kabul OR herat fallen", CAROL, "Herat has fallen", "en", True),
        ("from:alice -calm", ALICE, "Kabul is calm", "en", False),
        ("from:1001 kabul", ALICE, "kabul!", "en", True),
        ("fallen lang:ru", CAROL, "fallen", "en", False),
        ("кабул lang:ru", CAROL, "Кабул пал", "ru", True),
        ('"مزار شریف"', CAROL, "سقوط مزار شریف", "fa", True),
        ("#Kabul", CAROL, "news from #kabul", "en", True),
        ("#Kabul", CAROL, "news from kabul", "en", False),
        ("@bob_official fallen", CAROL, "@Bob_Official says it has fallen", "en", True),
    ],
)
def test_rule_language(rule: str, author: str, text: str, lang: str, expected: bool) -> None:
    fake = FakeX()
    fake.add_user(ALICE, "alice")
    fake.add_user(BOB, "bob_official")
    fake.add_user(CAROL, "carol")
    assert fake.rule_matches(rule, fake.post(author, text, lang=lang)) is expected


def test_retweet_and_reply_operators() -> None:
    fake = FakeX()
    fake.add_user(ALICE, "alice")
    fake.add_user(BOB, "bob_official")
    original = fake.post(ALICE, "Kabul has fallen")
    retweet = fake.post(
        BOB, "RT @alice: Kabul has fallen", referenced_tweets=[{"type": "retweeted", "id": original["id"]}]
    )
    reply = fake.post(BOB, "Confirmed", referenced_tweets=[{"type": "replied_to", "id": original["id"]}])
    assert fake.rule_matches("from:bob_official -is:retweet", retweet) is False
    assert fake.rule_matches("from:bob_official -is:retweet", reply) is True
    assert fake.rule_matches("retweets_of:alice", retweet) is True
    assert fake.rule_matches("to:alice", reply) is True
    assert reply["in_reply_to_user_id"] == ALICE
    assert reply["conversation_id"] == original["id"]


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "(from:alice",
        "from:alice)",
        "kabul or herat",
        "-kabul",
        "is:retweet",
        "foo:bar",
        "OR kabul",
        "kabul OR",
        "()",
        '"unterminated',
        "from:not-a-user",
        "has:feelings",
    ],
)
def test_invalid_rules(rule: str) -> None:
    with pytest.raises(RuleError):
        compile_rule(rule)


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
