"""A fake X (Twitter) API v2 for tests: the real tweepy async clients talk to it over HTTP on 127.0.0.1.

`FakeX` serves the v2 endpoints the bot uses on 127.0.0.1 (a free port) with aiohttp. The clients are
tweepy's own `AsyncClient` and `AsyncStreamingClient`, redirected by the small subclasses below
(`LocalAsyncClient`, `LocalAsyncStreamingClient`), so tweepy's request, parsing, error, reconnect and
back-off code all run unchanged; only the origin differs::

    async with FakeX() as fake:
        fake.add_user("2244994945", "XDevelopers")
        fake.post("2244994945", "Kabul has fallen")
        async with LocalAsyncClient(fake.bearer_token, base_url=fake.url) as client:
            response = await client.get_users_tweets("2244994945", tweet_fields=["created_at"])

What it imitates, because a bot's correctness depends on it:

- users by username(s) and id(s), and a user's posts timeline (newest first, since_id/until_id,
  start_time/end_time, exclude, max_results 5..100, pagination tokens, meta), with `expansions`,
  `tweet.fields` and `user.fields` honoured and validated the way X validates them (unknown values and
  unknown query parameters are a 400), unknown users reported in "errors" of a 200 answer as X does;
- filtered-stream rules: listing, adding (with dry_run), deleting, X's summary meta, duplicate, invalid,
  too-long and too-many rules refused with X-like problems, and a real matcher for the rule language
  (keywords, "phrases", #hashtags, @mentions, from:, to:, lang:, is:, has:, retweets_of:, negation,
  parentheses, OR, AND by juxtaposition binding tighter than OR);
- the filtered stream itself: one chunked HTTP response of "\\r\\n"-terminated JSON lines with
  matching_rules and includes, "\\r\\n" keep-alives, one connection at a time (429 TooManyConnections),
  409 without rules;
- X's 401 and 429 bodies, x-rate-limit-* headers on every answer and per-endpoint 15-minute windows;
- faults: dropped and stalled stream connections, raw stream lines, any status on the next requests.

Not imitated: user-context (OAuth 1.0a / OAuth 2 user) auth, writes, search, likes, media, places, polls,
backfill_minutes (accepted, ignored), edits of posts, and X's delay of ~20 s before a new rule applies.
Some problem texts (invalid rule details, the rule cap, a delete of an unknown id) are close to X's but
not verbatim; the ones a client is likely to match on (401, 429, TooManyConnections, DuplicateRule,
"Could not find user ...") are X's own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import enum
import http
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NamedTuple, Self

import aiohttp
import tweepy.asynchronous.streaming as tweepy_streaming
from aiohttp import web
from tweepy.asynchronous import AsyncClient, AsyncStreamingClient
from yarl import URL

from tests.fakes.loopback import LoopbackServer

JsonDict = dict[str, Any]

BEARER_TOKEN = "AAAAAAAAAAAAAAAAAAAAAFakeXBearerTokenForFrontwatchTests"
# The hosts tweepy writes into its URLs; the Local* clients send these to the fake instead.
X_API_HOSTS = frozenset({"api.twitter.com", "api.x.com"})
# Snowflake ids count milliseconds from this moment (2010-11-04T01:42:54.657Z).
TWITTER_EPOCH_MS = 1288834974657
RATE_WINDOW_SECONDS = 15 * 60
DEFAULT_KEEPALIVE_SECONDS = 1.0
DEFAULT_MAX_RULES = 25
DEFAULT_MAX_RULE_LENGTH = 512
PROBLEMS = "https://api.twitter.com/2/problems/"

# Endpoints, named as in X's rate-limit tables: the keys of `rate_limits` and `set_rate_limit`.
USER_TWEETS = "GET /2/users/:id/tweets"
USER_BY_USERNAME = "GET /2/users/by/username/:username"
USERS_BY_USERNAMES = "GET /2/users/by"
USER_BY_ID = "GET /2/users/:id"
USERS_BY_IDS = "GET /2/users"
STREAM = "GET /2/tweets/search/stream"
GET_RULES = "GET /2/tweets/search/stream/rules"
POST_RULES = "POST /2/tweets/search/stream/rules"

# Requests per 15-minute window per app (X's Pro tier); None means unlimited.
DEFAULT_RATE_LIMITS: dict[str, int | None] = {
    USER_TWEETS: 1500,
    USER_BY_USERNAME: 300,
    USERS_BY_USERNAMES: 300,
    USER_BY_ID: 300,
    USERS_BY_IDS: 300,
    STREAM: 50,
    GET_RULES: 450,
    POST_RULES: 450,
}

_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(r"/2/users/by/username/(?P<username>[^/]*)"), USER_BY_USERNAME),
    ("GET", re.compile(r"/2/users/by"), USERS_BY_USERNAMES),
    ("GET", re.compile(r"/2/users/(?P<id>[^/]+)/tweets"), USER_TWEETS),
    ("GET", re.compile(r"/2/users/(?P<id>[^/]+)"), USER_BY_ID),
    ("GET", re.compile(r"/2/users"), USERS_BY_IDS),
    ("GET", re.compile(r"/2/tweets/search/stream"), STREAM),
    ("GET", re.compile(r"/2/tweets/search/stream/rules"), GET_RULES),
    ("POST", re.compile(r"/2/tweets/search/stream/rules"), POST_RULES),
)

TWEET_FIELDS = frozenset(
    "article attachments author_id card_uri community_id context_annotations conversation_id created_at"
    " display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang"
    " media_metadata non_public_metrics note_tweet organic_metrics possibly_sensitive promoted_metrics"
    " public_metrics referenced_tweets reply_settings scopes source text withheld".split()
)
USER_FIELDS = frozenset(
    "affiliation connection_status created_at description entities id is_identity_verified location"
    " most_recent_tweet_id name parody pinned_tweet_id profile_banner_url profile_image_url protected"
    " public_metrics receives_your_dm subscription subscription_type url username verified"
    " verified_followers_count verified_type withheld".split()
)
TWEET_EXPANSIONS = frozenset(
    "article.cover_media article.media_entities attachments.media_keys attachments.media_source_tweet"
    " attachments.poll_ids author_id edit_history_tweet_ids entities.mentions.username"
    " entities.note.mentions.username geo.place_id in_reply_to_user_id referenced_tweets.id"
    " referenced_tweets.id.attachments.media_keys referenced_tweets.id.author_id".split()
)
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})

_SHAPE_PARAMS = frozenset(
    {"expansions", "tweet.fields", "user.fields", "media.fields", "place.fields", "poll.fields"}
)
_ALLOWED_PARAMS: dict[str, frozenset[str]] = {
    USER_TWEETS: _SHAPE_PARAMS
    | {"since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time", "exclude"},
    USER_BY_USERNAME: _SHAPE_PARAMS,
    USERS_BY_USERNAMES: _SHAPE_PARAMS | {"usernames"},
    USER_BY_ID: _SHAPE_PARAMS,
    USERS_BY_IDS: _SHAPE_PARAMS | {"ids"},
    STREAM: _SHAPE_PARAMS | {"backfill_minutes"},
    GET_RULES: frozenset({"ids", "max_results", "pagination_token"}),
    POST_RULES: frozenset({"dry_run", "delete_all"}),
}

_ID_RE = re.compile(r"[0-9]{1,19}")
_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
_ID_PATTERN = "^[0-9]{1,19}$"
_USERNAME_PATTERN = "^[A-Za-z0-9_]{1,15}$"

# X's own answers, word for word: clients and the bot match on these.
UNAUTHORIZED: JsonDict = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY_REQUESTS: JsonDict = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
TOO_MANY_CONNECTIONS: JsonDict = {
    "title": "ConnectionException",
    "detail": "This stream is currently at the maximum allowed connection limit.",
    "connection_issue": "TooManyConnections",
    "type": PROBLEMS + "streaming-connection",
}
NO_RULES: JsonDict = {
    "title": "ConnectionException",
    "detail": "You must define rules using the POST /2/tweets/search/stream/rules endpoint"
    " before connecting to filtered stream.",
    "connection_issue": "RuleConfigurationIssue",
    "type": PROBLEMS + "streaming-connection",
}
PAGE_NOT_FOUND: JsonDict = {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}


# --- redirecting tweepy to the fake ------------------------------------------------------------


def redirect_url(url: URL, base: URL) -> URL:
    """`url` with X's origin replaced by `base`'s; a URL for any other host is refused (ValueError).

    Refusing instead of passing through is what keeps a test from ever reaching the network, whatever
    URL some tweepy method builds.
    """
    if url.host in X_API_HOSTS:
        return URL.build(
            scheme=base.scheme,
            host=base.raw_host or "",
            port=base.port,
            path=url.raw_path,
            query_string=url.raw_query_string,
            encoded=True,
        )
    if url.origin() == base.origin():
        return url
    raise ValueError(f"refusing to send a request to {url.origin()}: this client only talks to {base}")


def _redirecting_request_class(base: URL) -> type[aiohttp.ClientRequest]:
    class RedirectedRequest(aiohttp.ClientRequest):
        # aiohttp builds one ClientRequest per request (and per redirect); the URL is rewritten before
        # anything (Host header, connection key, TLS choice) is derived from it.
        def __init__(self, method: str, url: URL, *args: Any, **kwargs: Any) -> None:
            super().__init__(method, redirect_url(url, base), *args, **kwargs)

    return RedirectedRequest


def _origin(base_url: str) -> URL:
    base = URL(base_url)
    if not base.absolute or base.scheme not in ("http", "https") or base.path not in ("", "/"):
        raise ValueError(f"base_url must be an origin like http://127.0.0.1:8080, not {base_url!r}")
    return base.origin()


def redirected_session(base_url: str, *, read_timeout: float | None = None) -> aiohttp.ClientSession:
    """An aiohttp session whose requests to api.twitter.com / api.x.com go to `base_url` instead."""
    return aiohttp.ClientSession(
        request_class=_redirecting_request_class(_origin(base_url)),
        timeout=aiohttp.ClientTimeout(
            total=None if read_timeout is not None else 300, sock_read=read_timeout
        ),
    )


class LocalAsyncClient(AsyncClient):  # type: ignore[misc]  # tweepy ships no type information
    """tweepy's AsyncClient with every request sent to `base_url` (X's origin swapped, nothing else).

    tweepy builds "https://api.twitter.com" + route inside `request()`, next to its error handling, and
    sends it with `self.session` when one is set. So the only override is `request()`, which makes sure
    `self.session` is a session whose request class rewrites the origin, and then runs tweepy's own
    `request()`. Close the client (`aclose()` or `async with`) to close that session.
    """

    session: aiohttp.ClientSession | None

    def __init__(self, bearer_token: str | None = None, *, base_url: str, **kwargs: Any) -> None:
        super().__init__(bearer_token, **kwargs)
        self.base_url = base_url
        _origin(base_url)

    async def request(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        user_auth: bool = False,
    ) -> Any:
        if self.session is None or self.session.closed:
            self.session = redirected_session(self.base_url)
        return await super().request(method, route, params, json, user_auth)

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class LocalAsyncStreamingClient(AsyncStreamingClient):  # type: ignore[misc]  # tweepy ships no types
    """tweepy's AsyncStreamingClient with the stream and the rules requests sent to `base_url`.

    tweepy keeps ONE `self.session` for both: `request()` (rules) uses it when set, and the stream loop
    (`AsyncBaseStream._connect`) adopts it when it is open, otherwise creates its own, and closes it when
    the stream ends. Both entry points are overridden only to put a redirecting session there first;
    tweepy's own code then runs as is. `stall_timeout` is the session's read timeout, which is tweepy's
    stall detection (its `timeout=21` argument, which `filter()` cannot pass).
    """

    session: aiohttp.ClientSession | None
    task: asyncio.Task[None] | None

    def __init__(
        self, bearer_token: str, *, base_url: str, stall_timeout: float = 21.0, **kwargs: Any
    ) -> None:
        super().__init__(bearer_token, **kwargs)
        self.base_url = base_url
        self.stall_timeout = stall_timeout
        _origin(base_url)

    def _ensure_session(self) -> None:
        if self.session is None or self.session.closed:
            self.session = redirected_session(self.base_url, read_timeout=self.stall_timeout)

    async def request(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        user_auth: bool = False,
    ) -> Any:
        self._ensure_session()
        return await super().request(method, route, params, json, user_auth)

    async def _connect(self, method: str, endpoint: str, **kwargs: Any) -> None:
        self._ensure_session()
        await super()._connect(method, endpoint, **kwargs)

    async def aclose(self) -> None:
        """Disconnect the stream, wait for tweepy's stream task to end, close the session."""
        self.disconnect()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class TweepyClients(NamedTuple):
    client: LocalAsyncClient
    stream: LocalAsyncStreamingClient


def tweepy_clients_for(
    base_url: str,
    bearer_token: str,
    *,
    stream_class: type[LocalAsyncStreamingClient] = LocalAsyncStreamingClient,
    **stream_kwargs: Any,
) -> TweepyClients:
    """Both tweepy clients pointed at `base_url`; `stream_class` is usually a subclass with on_response."""
    return TweepyClients(
        LocalAsyncClient(bearer_token, base_url=base_url),
        stream_class(bearer_token, base_url=base_url, **stream_kwargs),
    )


class _ScaledAsyncio:
    """Stands in for the `asyncio` module inside tweepy's streaming module: sleeps are recorded, scaled."""

    def __init__(self, factor: float, delays: list[float]) -> None:
        self._factor = factor
        self._delays = delays

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        self._delays.append(delay)
        return await asyncio.sleep(delay * self._factor, result)


@contextlib.contextmanager
def scaled_stream_backoff(factor: float = 0.01) -> Iterator[list[float]]:
    """Run tweepy's stream back-off `factor` times as fast; yields the delays tweepy asked for.

    tweepy's back-off (0 s, then +0.25 s per network error up to 16 s; 5 s doubling to 320 s per HTTP
    error; at least 60 s after a 420/429) lives in local variables of `AsyncBaseStream._connect`, with no
    parameter or hook; its only seam is the module-level name `asyncio` it calls `asyncio.sleep` on.
    """
    delays: list[float] = []
    original = tweepy_streaming.asyncio
    tweepy_streaming.asyncio = _ScaledAsyncio(factor, delays)
    try:
        yield delays
    finally:
        tweepy_streaming.asyncio = original


# --- records a test reads ----------------------------------------------------------------------


@dataclass
class XRequest:
    """One request as the fake received it and the status it answered (200 once a stream is accepted)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float
    endpoint: str | None = None
    status: int = 0


# --- errors ------------------------------------------------------------------------------------


class _XError(Exception):
    """Ends a request with this status, JSON body and extra headers."""

    def __init__(self, status: int, body: JsonDict, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _problem(status: int) -> JsonDict:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"title": phrase, "detail": phrase, "type": "about:blank", "status": status}


def _invalid_request(errors: list[JsonDict]) -> _XError:
    return _XError(
        400,
        {
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        },
    )


def _bad_param(name: str, value: str, message: str) -> _XError:
    return _invalid_request([{"parameters": {name: [value]}, "message": message}])


def _not_found(parameter: str, value: str, detail: str) -> JsonDict:
    return {
        "value": value,
        "detail": detail,
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


# --- request parameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """What a request asked to see: expansions and fields."""

    expansions: frozenset[str]
    tweet_fields: frozenset[str]
    user_fields: frozenset[str]


_FULL_SHAPE = _Shape(frozenset({"author_id"}), TWEET_FIELDS, USER_FIELDS)


def _csv(query: Mapping[str, str], name: str, allowed: frozenset[str]) -> frozenset[str]:
    raw = query.get(name)
    if raw is None:
        return frozenset()
    values = raw.split(",")
    for value in values:
        if value not in allowed:
            listed = ",".join(sorted(allowed))
            raise _bad_param(
                name, value, f"The `{name}` query parameter value [{value}] is not one of [{listed}]"
            )
    return frozenset(values)


def _shape(query: Mapping[str, str], expansions: frozenset[str]) -> _Shape:
    # Media, place and poll fields are accepted without checking; nothing here has media, places or polls.
    return _Shape(
        _csv(query, "expansions", expansions),
        _csv(query, "tweet.fields", TWEET_FIELDS),
        _csv(query, "user.fields", USER_FIELDS),
    )


def _check_params(endpoint: str, query: Mapping[str, str]) -> None:
    allowed = _ALLOWED_PARAMS[endpoint]
    for name, value in query.items():
        if name not in allowed:
            listed = ",".join(sorted(allowed))
            raise _bad_param(name, value, f"The query parameter [{name}] is not one of [{listed}]")


def _id_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not _ID_RE.fullmatch(value):
        raise _bad_param(
            name, value, f"The `{name}` query parameter value [{value}] does not match {_ID_PATTERN}"
        )
    return int(value)


def _time_param(query: Mapping[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad_param(
            name, value, f"The `{name}` query parameter value [{value}] is not a valid RFC 3339 date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _encode_token(kind: str, bound: int, owner: str) -> str:
    raw = f"{kind}:{bound}:{owner}".encode()
    return base64.b32encode(raw).decode().rstrip("=").lower()


def _decode_token(token: str) -> tuple[str, int, str]:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        kind, bound, owner = base64.b32decode(padded).decode().split(":")
        return kind, int(bound), owner
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError(token) from None


# --- the rule language -------------------------------------------------------------------------


class RuleError(ValueError):
    """A rule X would refuse; the message is the "details" entry of the problem."""


@dataclass(frozen=True)
class _PostView:
    """A post as the rule matcher sees it: normalised tokens and the facts operators test."""

    text: str
    words: tuple[str, ...]
    hashtags: frozenset[str]
    mentions: frozenset[str]
    cashtags: frozenset[str]
    author_id: str
    author_username: str
    author_verified: bool
    lang: str | None
    ref_types: frozenset[str]
    reply_to: frozenset[str]
    retweet_of: frozenset[str]
    has: frozenset[str]
    conversation_id: str


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", text.casefold()))


class _Node:
    def test(self, post: _PostView) -> bool:
        raise NotImplementedError

    def standalone(self) -> bool:
        """Whether this clause alone can make a rule match (X refuses rules with none)."""
        return True


@dataclass(frozen=True)
class _Or(_Node):
    parts: tuple[_Node, ...]

    def test(self, post: _PostView) -> bool:
        return any(part.test(post) for part in self.parts)

    def standalone(self) -> bool:
        return all(part.standalone() for part in self.parts)


@dataclass(frozen=True)
class _And(_Node):
    parts: tuple[_Node, ...]

    def test(self, post: _PostView) -> bool:
        return all(part.test(post) for part in self.parts)

    def standalone(self) -> bool:
        return any(part.standalone() for part in self.parts)


@dataclass(frozen=True)
class _Not(_Node):
    part: _Node

    def test(self, post: _PostView) -> bool:
        return not self.part.test(post)

    def standalone(self) -> bool:
        return False


@dataclass(frozen=True)
class _Keyword(_Node):
    """A bare word or a "quoted phrase": the words in a row, case-insensitively, anywhere in the text."""

    raw: str

    def test(self, post: _PostView) -> bool:
        wanted = _words(self.raw)
        if not wanted:
            # Emoji and punctuation keywords: a plain case-insensitive substring.
            return self.raw.casefold() in post.text.casefold()
        size = len(wanted)
        return any(post.words[i : i + size] == wanted for i in range(len(post.words) - size + 1))


@dataclass(frozen=True)
class _Entity(_Node):
    kind: str
    value: str

    def test(self, post: _PostView) -> bool:
        found = {"#": post.hashtags, "@": post.mentions, "$": post.cashtags}[self.kind]
        return self.value.casefold() in found


_OPERATORS = frozenset({"from", "to", "lang", "is", "has", "retweets_of", "url", "conversation_id"})
# X requires another clause next to these: "is:retweet" alone is not a rule.
_CONJUNCTION_REQUIRED = frozenset({"lang", "is", "has"})
_IS_VALUES = frozenset({"retweet", "reply", "quote", "verified", "nullcast"})
_HAS_VALUES = frozenset({"links", "mentions", "hashtags", "cashtags", "media", "images", "videos", "geo"})


@dataclass(frozen=True)
class _Operator(_Node):
    name: str
    value: str

    def test(self, post: _PostView) -> bool:
        value = self.value.casefold()
        if self.name == "from":
            return value in (post.author_username, post.author_id)
        if self.name == "to":
            return value in post.reply_to
        if self.name == "retweets_of":
            return value in post.retweet_of
        if self.name == "lang":
            return post.lang == value
        if self.name == "is":
            if value == "verified":
                return post.author_verified
            kinds = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}
            return kinds.get(value, "") in post.ref_types
        if self.name == "has":
            return value in post.has
        if self.name == "url":
            return value in post.text.casefold()
        return value == post.conversation_id  # conversation_id

    def standalone(self) -> bool:
        return self.name not in _CONJUNCTION_REQUIRED


_RULE_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<open>-?\()
      | (?P<close>\))
      | (?P<phrase>-?"(?:[^"\\]|\\.)*")
      | (?P<term>[^\s()"]+(?:"(?:[^"\\]|\\.)*")?)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _RULE_TOKEN.match(source, pos)
        if match is None:
            raise RuleError(f"Unterminated quoted phrase (at position {pos + 1})")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos + 1))
        pos = match.end()
    return tokens


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class _RuleParser:
    """or := and (OR and)* ; and := unary+ ; unary := -? (group | phrase | term). AND binds tighter."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0

    def parse(self) -> _Node:
        if not self.tokens:
            raise RuleError("Rule must not be empty")
        node = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise RuleError(f"Unbalanced parentheses: unexpected ')' (at position {token.pos})")
        if not node.standalone():
            raise RuleError(
                "Rules must contain a positive, standalone clause: a keyword, phrase, #hashtag, @mention,"
                " from:, to: or retweets_of: (negations and is:, has:, lang: need one next to them)"
            )
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _or(self) -> _Node:
        parts = [self._and()]
        while (token := self._peek()) is not None and token.kind == "term" and token.text == "OR":
            self.index += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _Or(tuple(parts))

    def _and(self) -> _Node:
        parts: list[_Node] = []
        while (token := self._peek()) is not None and token.kind != "close":
            if token.kind == "term" and token.text == "OR":
                break
            parts.append(self._unary())
        if not parts:
            token = self._peek()
            where = f"at position {token.pos}" if token else "at the end of the rule"
            raise RuleError(f"Expected a clause ({where}): OR joins two clauses and () cannot be empty")
        return parts[0] if len(parts) == 1 else _And(tuple(parts))

    def _unary(self) -> _Node:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "open":
            node = self._or()
            closing = self._peek()
            if closing is None or closing.kind != "close":
                raise RuleError(f"Unbalanced parentheses: '(' is never closed (at position {token.pos})")
            self.index += 1
            return _Not(node) if token.text.startswith("-") else node
        if token.kind == "close":
            raise RuleError(f"Unbalanced parentheses: unexpected ')' (at position {token.pos})")
        negated = token.text.startswith("-") and len(token.text) > 1
        body = token.text[1:] if negated else token.text
        node = _Keyword(_unquote(body)) if token.kind == "phrase" else self._term(body, token.pos)
        return _Not(node) if negated else node

    def _term(self, body: str, pos: int) -> _Node:
        if body == "or":
            raise RuleError(
                f"Ambiguous use of or as a keyword (at position {pos}). Use a capitalized OR for a boolean"
                " disjunction."
            )
        name, colon, value = body.partition(":")
        if colon and "://" not in body and re.fullmatch(r"[a-z_]+", name):
            return _operator(name, value, pos)
        if len(body) > 1 and body[0] in "#@$":
            return _Entity(body[0], body[1:].casefold())
        return _Keyword(body)


def _operator(name: str, value: str, pos: int) -> _Operator:
    if name not in _OPERATORS:
        raise RuleError(f"Reference to invalid operator '{name}' (at position {pos})")
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = _unquote(value)
    if not value:
        raise RuleError(f"Operator '{name}:' needs a value (at position {pos})")
    if name in ("from", "to", "retweets_of"):
        value = value.removeprefix("@")
        if not (_USERNAME_RE.fullmatch(value) or _ID_RE.fullmatch(value)):
            raise RuleError(f"Invalid user '{value}' for operator '{name}' (at position {pos})")
    elif name == "is" and value not in _IS_VALUES:
        raise RuleError(f"Reference to invalid operator 'is:{value}' (at position {pos})")
    elif name == "has" and value not in _HAS_VALUES:
        raise RuleError(f"Reference to invalid operator 'has:{value}' (at position {pos})")
    elif name == "lang" and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", value):
        raise RuleError(f"Invalid language '{value}' for operator 'lang' (at position {pos})")
    return _Operator(name, value)


def compile_rule(value: str) -> _Node:
    """Parse a rule the way the fake's /rules endpoint does; RuleError if X would refuse it."""
    return _RuleParser(value).parse()


# --- internal state ----------------------------------------------------------------------------


@dataclass
class _Rule:
    id: str
    value: str
    tag: str | None
    expr: _Node

    def json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "value": self.value}
        if self.tag is not None:
            data["tag"] = self.tag
        return data


@dataclass
class _Bucket:
    """A fixed 15-minute window per endpoint, as X counts: `limit` requests from the window's start."""

    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
        return allowed, {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - self.used),
            "x-rate-limit-reset": str(math.ceil(self.reset_at)),
        }


@dataclass
class _Fault:
    prefix: str
    exact: bool
    method: str | None
    status: int
    headers: dict[str, str]
    body: JsonDict | None
    remaining: int

    def applies(self, method: str, path: str) -> bool:
        if self.remaining <= 0 or (self.method is not None and self.method != method):
            return False
        return path == self.prefix if self.exact else path.startswith(self.prefix)


class _Signal(enum.Enum):
    CLOSE = "close"
    DROP = "drop"


@dataclass
class _StreamConn:
    request: web.Request
    shape: _Shape
    number: int
    queue: asyncio.Queue[bytes | _Signal] = field(default_factory=asyncio.Queue)
    stalled: bool = False
    # Set by drop_stream(): the connection is as good as gone, though its last bytes are still queued.
    ending: bool = False
    open: bool = True

    def alive(self) -> bool:
        transport = self.request.transport
        return self.open and not self.ending and transport is not None and not transport.is_closing()


@dataclass
class _Call:
    """One request on its way through the handlers."""

    request: web.Request
    record: XRequest
    endpoint: str
    args: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def reply(self, body: JsonDict, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, headers=self.headers, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


Handler = Callable[[_Call], Awaitable[web.StreamResponse]]


# --- the server --------------------------------------------------------------------------------


class FakeX(LoopbackServer):
    """X API v2 on 127.0.0.1: users, timelines, filtered-stream rules and stream, limits and faults.

    `keepalive_seconds` is the stream's keep-alive period (X: 20 s). `rate_limits` overrides
    DEFAULT_RATE_LIMITS per endpoint (None: unlimited). `clock` gives epoch seconds for rate-limit
    windows, default created_at values and snowflake ids.
    """

    name = "FakeX"

    def __init__(
        self,
        *,
        bearer_token: str = BEARER_TOKEN,
        keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS,
        max_rules: int = DEFAULT_MAX_RULES,
        max_rule_length: int = DEFAULT_MAX_RULE_LENGTH,
        rate_limits: Mapping[str, int | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.bearer_token = bearer_token
        self.keepalive_seconds = keepalive_seconds
        self.max_rules = max_rules
        self.max_rule_length = max_rule_length
        self.requests: list[XRequest] = []
        self.stream_connections = 0
        # Every stream message the fake wrote (or queued) to a connection, and every matching post no
        # connection received (none open, or the open one stalled), in order.
        self.stream_sent: list[JsonDict] = []
        self.undelivered: list[JsonDict] = []
        self._clock = clock
        unknown = set(rate_limits or {}) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ValueError(f"unknown endpoints {sorted(unknown)}; known: {sorted(DEFAULT_RATE_LIMITS)}")
        self._limits: dict[str, int | None] = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self._windows: dict[str, float] = dict.fromkeys(self._limits, float(RATE_WINDOW_SECONDS))
        self._buckets: dict[str, _Bucket] = {}
        self._users: dict[str, JsonDict] = {}
        self._tweets: dict[str, JsonDict] = {}
        self._timelines: dict[str, list[str]] = {}
        self._rules: list[_Rule] = []
        self._faults: list[_Fault] = []
        self._last_id = 0
        self._conn: _StreamConn | None = None
        self._stream_event = asyncio.Event()
        self._handlers: dict[str, Handler] = {
            USER_TWEETS: self._user_tweets,
            USER_BY_USERNAME: self._user_by_username,
            USERS_BY_USERNAMES: self._users_by_usernames,
            USER_BY_ID: self._user_by_id,
            USERS_BY_IDS: self._users_by_ids,
            STREAM: self._stream,
            GET_RULES: self._get_rules,
            POST_RULES: self._post_rules,
        }

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        # A fresh event: an asyncio.Event belongs to the loop that first waited on it.
        self._stream_event = asyncio.Event()

    async def stop(self) -> None:
        if self._conn is not None:
            self._conn.queue.put_nowait(_Signal.CLOSE)
        await super().stop()

    def clients(self, **stream_kwargs: Any) -> TweepyClients:
        """A LocalAsyncClient and a LocalAsyncStreamingClient for this server and its token."""
        return tweepy_clients_for(self.url, self.bearer_token, **stream_kwargs)

    # --- users and posts ----------------------------------------------------------------------

    def add_user(self, user_id: str, username: str, name: str | None = None, **fields: Any) -> JsonDict:
        """A user the API knows; `fields` adds or overrides user fields (verified=True, description=...)."""
        if not _ID_RE.fullmatch(user_id):
            raise ValueError(f"user ids are numeric strings, not {user_id!r}")
        if not _USERNAME_RE.fullmatch(username):
            raise ValueError(f"{username!r} is not a valid X username")
        user: JsonDict = {
            "id": user_id,
            "name": name if name is not None else username,
            "username": username,
            "created_at": "2012-03-01T09:00:00.000Z",
            "description": "",
            "protected": False,
            "verified": False,
            **fields,
        }
        self._users[user_id] = user
        self._timelines.setdefault(user_id, [])
        return dict(user)

    def post(
        self,
        user_id: str,
        text: str,
        lang: str | None = "en",
        created_at: str | datetime | None = None,
        referenced_tweets: Iterable[Mapping[str, str]] | None = None,
        id: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> JsonDict:
        """A new post on the user's timeline, pushed to the open stream when a rule matches it.

        Returns the post with every field the fake knows. `referenced_tweets` is X's list of
        {"type": "retweeted" | "quoted" | "replied_to", "id": ...}; `extra` adds other tweet fields
        (entities, public_metrics, ...), returned when a request asks for them.
        """
        if user_id not in self._users:
            raise ValueError(f"user {user_id} was never added")
        tweet_id = self._claim_id(id)
        if isinstance(created_at, datetime):
            created = _iso(created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC))
        else:
            created = created_at or _iso(datetime.fromtimestamp(self._clock(), UTC))
        tweet: JsonDict = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": user_id,
            "created_at": created,
            "conversation_id": tweet_id,
        }
        if lang is not None:
            tweet["lang"] = lang
        refs = [{"type": str(r["type"]), "id": str(r["id"])} for r in referenced_tweets or ()]
        if refs:
            tweet["referenced_tweets"] = refs
            parent = next((self._tweets.get(r["id"]) for r in refs if r["type"] == "replied_to"), None)
            if parent is not None:
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["conversation_id"] = parent["conversation_id"]
        tweet.update(extra or {})
        self._tweets[tweet_id] = tweet
        self._timelines[user_id].append(tweet_id)
        self._push(tweet)
        return copy.deepcopy(tweet)

    def timeline(self, user_id: str) -> list[JsonDict]:
        """The user's posts, newest first, with every field."""
        ids = sorted(self._timelines.get(user_id, []), key=int, reverse=True)
        return [dict(self._tweets[i]) for i in ids]

    def _claim_id(self, wanted: str | None) -> str:
        if wanted is not None:
            if not _ID_RE.fullmatch(wanted) or wanted in self._tweets:
                raise ValueError(f"post id {wanted!r} is not a new numeric id")
            self._last_id = max(self._last_id, int(wanted))
            return wanted
        milliseconds = int(self._clock() * 1000)
        self._last_id = max((milliseconds - TWITTER_EPOCH_MS) << 22, self._last_id + 1)
        return str(self._last_id)

    # --- rules --------------------------------------------------------------------------------

    @property
    def rules(self) -> list[JsonDict]:
        """The current rules as GET /rules lists them: {"id", "value"} plus "tag" when set."""
        return [rule.json() for rule in self._rules]

    def add_rule(self, value: str, tag: str | None = None) -> str:
        """Install a rule without a request (RuleError if X would refuse it); returns its id."""
        problem = self._rule_problem(value, set())
        if problem is not None:
            raise RuleError(problem.get("details", [problem["title"]])[0])
        rule = _Rule(self._claim_id(None), value, tag, compile_rule(value))
        self._rules.append(rule)
        return rule.id

    def rule_matches(self, rule: str, post: Mapping[str, Any]) -> bool:
        """Whether a post (as `post()` returns it) satisfies a rule, as the stream decides."""
        return compile_rule(rule).test(self._view(post))

    def _rule_problem(self, value: Any, seen: set[str]) -> JsonDict | None:
        if not isinstance(value, str) or not value.strip():
            return self._invalid_rule(str(value or ""), "Rule must not be empty")
        if len(value) > self.max_rule_length:
            return self._invalid_rule(
                value, f"Rule is {len(value)} characters long; the limit is {self.max_rule_length} characters"
            )
        existing = next((rule for rule in self._rules if rule.value == value), None)
        if existing is not None or value in seen:
            problem: JsonDict = {
                "value": value,
                "title": "DuplicateRule",
                "type": PROBLEMS + "duplicate-rules",
            }
            if existing is not None:
                problem["id"] = existing.id
            return problem
        try:
            compile_rule(value)
        except RuleError as err:
            return self._invalid_rule(value, str(err))
        return None

    @staticmethod
    def _invalid_rule(value: str, detail: str) -> JsonDict:
        return {
            "value": value,
            "details": [detail],
            "title": "UnprocessableEntity",
            "type": PROBLEMS + "invalid-rules",
        }

    # --- the stream ---------------------------------------------------------------------------

    @property
    def stream_open(self) -> bool:
        return self._conn is not None and self._conn.alive()

    async def wait_for_stream(self, connections: int = 1, timeout: float = 5.0) -> None:
        """Until a stream connection is open and at least `connections` have been accepted in all."""
        async with asyncio.timeout(timeout):
            while not (self.stream_open and self.stream_connections >= connections):
                await self._stream_event.wait()

    def drop_stream(self, partial_line: str = "") -> None:
        """Cut the open stream connection mid-stream (no end chunk), after writing `partial_line` if any."""
        conn = self._open_conn()
        if partial_line:
            conn.queue.put_nowait(partial_line.encode())
        conn.queue.put_nowait(_Signal.DROP)
        conn.ending = True

    def stall_stream(self) -> None:
        """The open connection stays open but gets nothing more: no posts, no keep-alives.

        Only this connection: the next one the client opens works normally. Posts matched while it is
        stalled go to `undelivered`.
        """
        self._open_conn().stalled = True

    def send_raw(self, line: str) -> None:
        """Write one raw line (a "\\r\\n" is added) on the open stream: malformed JSON, missing fields..."""
        self._open_conn().queue.put_nowait(line.encode() + b"\r\n")

    def _open_conn(self) -> _StreamConn:
        conn = self._conn
        if conn is None or not conn.alive():
            raise RuntimeError("no stream connection is open")
        return conn

    def _signal_stream(self) -> None:
        self._stream_event.set()
        self._stream_event = asyncio.Event()

    def _push(self, tweet: JsonDict) -> None:
        view = self._view(tweet)
        matched = [rule for rule in self._rules if rule.expr.test(view)]
        if not matched:
            return
        conn = self._conn
        if conn is None or not conn.alive() or conn.stalled:
            self.undelivered.append(self._stream_message(tweet, matched, _FULL_SHAPE))
            return
        message = self._stream_message(tweet, matched, conn.shape)
        conn.queue.put_nowait(_dumps(message).encode() + b"\r\n")
        self.stream_sent.append(message)

    def _stream_message(self, tweet: JsonDict, matched: list[_Rule], shape: _Shape) -> JsonDict:
        message: JsonDict = {"data": self._tweet_json(tweet, shape)}
        includes = self._includes([tweet], shape)
        if includes:
            message["includes"] = includes
        # X sends "tag" for every matching rule, "" when it has none (tweepy reads rule["tag"]).
        message["matching_rules"] = [{"id": rule.id, "tag": rule.tag or ""} for rule in matched]
        return message

    def _view(self, tweet: Mapping[str, Any]) -> _PostView:
        author = self._users.get(str(tweet.get("author_id", "")), {})
        refs = tweet.get("referenced_tweets") or []
        text = str(tweet.get("text", ""))

        def usernames(kind: str) -> frozenset[str]:
            found: set[str] = set()
            for ref in refs:
                parent = self._tweets.get(ref["id"]) if ref["type"] == kind else None
                if parent is not None:
                    found.add(parent["author_id"])
                    found.add(str(self._users.get(parent["author_id"], {}).get("username", "")).casefold())
            return frozenset(found)

        reply_to = set(usernames("replied_to"))
        if tweet.get("in_reply_to_user_id"):
            reply_to.add(str(tweet["in_reply_to_user_id"]))
            reply_to.add(
                str(self._users.get(tweet["in_reply_to_user_id"], {}).get("username", "")).casefold()
            )
        has = {
            name
            for name, present in (
                ("links", re.search(r"https?://\S", text) is not None),
                ("mentions", re.search(r"@\w", text) is not None),
                ("hashtags", re.search(r"#\w", text) is not None),
                ("cashtags", re.search(r"\$[A-Za-z]", text) is not None),
                ("media", bool(tweet.get("attachments", {}).get("media_keys"))),
                ("images", bool(tweet.get("attachments", {}).get("media_keys"))),
                ("videos", False),
                ("geo", bool(tweet.get("geo"))),
            )
            if present
        }
        return _PostView(
            text=text,
            words=_words(text),
            hashtags=frozenset(t.casefold() for t in re.findall(r"#(\w+)", text)),
            mentions=frozenset(t.casefold() for t in re.findall(r"@(\w+)", text)),
            cashtags=frozenset(t.casefold() for t in re.findall(r"\$([A-Za-z]\w*)", text)),
            author_id=str(tweet.get("author_id", "")),
            author_username=str(author.get("username", "")).casefold(),
            author_verified=bool(author.get("verified")),
            lang=tweet.get("lang"),
            ref_types=frozenset(str(ref["type"]) for ref in refs),
            reply_to=frozenset(reply_to),
            retweet_of=usernames("retweeted"),
            has=frozenset(has),
            conversation_id=str(tweet.get("conversation_id", "")),
        )

    # --- faults and limits --------------------------------------------------------------------

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        count: int = 1,
        headers: Mapping[str, str] | None = None,
        body: JsonDict | None = None,
        *,
        method: str | None = None,
        exact: bool = False,
    ) -> None:
        """The next `count` authorised requests whose path starts with `path_prefix` get `status`.

        "/2/tweets/search/stream" also prefixes ".../stream/rules": pass exact=True for the stream
        alone. The body defaults to X's JSON for the status (401 and 429 verbatim); a 429 carries
        x-rate-limit-* headers with a reset one second ahead unless `headers` says otherwise.
        """
        self._faults.append(
            _Fault(path_prefix, exact, method, status, dict(headers or {}), body, remaining=count)
        )

    def set_rate_limit(
        self, endpoint: str, limit: int | None, window_seconds: float = RATE_WINDOW_SECONDS
    ) -> None:
        """Requests allowed per window for an endpoint (USER_TWEETS, STREAM, ...); None: unlimited."""
        if endpoint not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(DEFAULT_RATE_LIMITS)}")
        self._limits[endpoint] = limit
        self._windows[endpoint] = window_seconds
        self._buckets.pop(endpoint, None)

    def calls(self, path_prefix: str, method: str | None = None) -> list[XRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    def _fault_for(self, call: _Call) -> _XError | None:
        request = call.request
        fault = next((f for f in self._faults if f.applies(request.method, request.path)), None)
        if fault is None:
            return None
        fault.remaining -= 1
        headers = dict(fault.headers)
        if fault.status == 429:
            limit = self._limits.get(call.endpoint) or 0
            defaults = {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(self._clock()) + 1),
            }
            headers = {**defaults, **headers}
        default_body = {401: UNAUTHORIZED, 429: TOO_MANY_REQUESTS}.get(fault.status) or _problem(fault.status)
        return _XError(fault.status, fault.body if fault.body is not None else dict(default_body), headers)

    def _take_rate_limit(self, call: _Call) -> None:
        limit = self._limits.get(call.endpoint)
        if limit is None:
            return
        bucket = self._buckets.get(call.endpoint)
        if bucket is None:
            bucket = self._buckets[call.endpoint] = _Bucket(limit, self._windows[call.endpoint])
        allowed, headers = bucket.take(self._clock())
        call.headers.update(headers)
        if not allowed:
            raise _XError(429, dict(TOO_MANY_REQUESTS))

    # --- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        record = XRequest(request.method, request.path, dict(request.query), body, self._clock())
        self.requests.append(record)
        route = next(
            (
                (endpoint, m)
                for method, pattern, endpoint in _ROUTES
                if method == request.method and (m := pattern.fullmatch(request.path))
            ),
            None,
        )
        if route is None:
            record.status = 404
            return web.json_response(PAGE_NOT_FOUND, status=404)
        endpoint, match = route
        record.endpoint = endpoint
        call = _Call(request, record, endpoint, match.groupdict(), dict(request.query), body)
        try:
            if request.headers.get("Authorization") != f"Bearer {self.bearer_token}":
                raise _XError(401, dict(UNAUTHORIZED))
            fault = self._fault_for(call)
            if fault is not None:
                raise fault
            self._take_rate_limit(call)
            _check_params(endpoint, call.query)
            response = await self._handlers[endpoint](call)
        except _XError as err:
            record.status = err.status
            return web.json_response(
                err.body, status=err.status, headers={**call.headers, **err.headers}, dumps=_dumps
            )
        record.status = response.status
        return response

    # --- users --------------------------------------------------------------------------------

    def _user_json(self, user: JsonDict, fields: frozenset[str]) -> JsonDict:
        data: JsonDict = {"id": user["id"], "name": user["name"], "username": user["username"]}
        for name in sorted(fields):
            if name in user and name not in data:
                data[name] = user[name]
        return data

    def _by_username(self, username: str) -> JsonDict | None:
        folded = username.casefold()
        return next((u for u in self._users.values() if u["username"].casefold() == folded), None)

    def _lookup(self, call: _Call, found: list[JsonDict], errors: list[JsonDict], many: bool) -> web.Response:
        shape = _shape(call.query, USER_EXPANSIONS)
        body: JsonDict = {}
        if found:
            users = [self._user_json(user, shape.user_fields) for user in found]
            body["data"] = users if many else users[0]
            pinned = [
                self._tweet_json(self._tweets[u["pinned_tweet_id"]], shape)
                for u in found
                if "pinned_tweet_id" in shape.expansions and u.get("pinned_tweet_id") in self._tweets
            ]
            if pinned:
                body["includes"] = {"tweets": pinned}
        if errors:
            body["errors"] = errors
        return call.reply(body)

    def _checked_username(self, name: str, value: str) -> str:
        if not _USERNAME_RE.fullmatch(value):
            raise _bad_param(
                name,
                value,
                f"The `{name}` query parameter value [{value}] does not match {_USERNAME_PATTERN}",
            )
        return value

    def _checked_id(self, name: str, value: str) -> str:
        if not _ID_RE.fullmatch(value):
            raise _bad_param(
                name, value, f"The `{name}` query parameter value [{value}] does not match {_ID_PATTERN}"
            )
        return value

    def _list_param(self, call: _Call, name: str) -> list[str]:
        raw = call.query.get(name)
        if raw is None:
            raise _invalid_request(
                [{"parameters": {name: []}, "message": f"The `{name}` query parameter can not be empty"}]
            )
        values = raw.split(",")
        if not 1 <= len(values) <= 100:
            raise _bad_param(
                name,
                raw,
                f"The number of values in the `{name}` query parameter list [{len(values)}]"
                " is not between 1 and 100",
            )
        return values

    async def _user_by_username(self, call: _Call) -> web.StreamResponse:
        username = self._checked_username("username", call.args["username"])
        user = self._by_username(username)
        if user is None:
            return self._lookup(
                call,
                [],
                [_not_found("username", username, f"Could not find user with username: [{username}].")],
                False,
            )
        return self._lookup(call, [user], [], False)

    async def _users_by_usernames(self, call: _Call) -> web.StreamResponse:
        found: list[JsonDict] = []
        errors: list[JsonDict] = []
        for username in self._list_param(call, "usernames"):
            user = self._by_username(self._checked_username("usernames", username))
            if user is None:
                errors.append(
                    _not_found("usernames", username, f"Could not find user with usernames: [{username}].")
                )
            else:
                found.append(user)
        return self._lookup(call, found, errors, True)

    async def _user_by_id(self, call: _Call) -> web.StreamResponse:
        user_id = self._checked_id("id", call.args["id"])
        user = self._users.get(user_id)
        if user is None:
            return self._lookup(
                call, [], [_not_found("id", user_id, f"Could not find user with id: [{user_id}].")], False
            )
        return self._lookup(call, [user], [], False)

    async def _users_by_ids(self, call: _Call) -> web.StreamResponse:
        found: list[JsonDict] = []
        errors: list[JsonDict] = []
        for user_id in self._list_param(call, "ids"):
            user = self._users.get(self._checked_id("ids", user_id))
            if user is None:
                errors.append(_not_found("ids", user_id, f"Could not find user with ids: [{user_id}]."))
            else:
                found.append(user)
        return self._lookup(call, found, errors, True)

    # --- tweets -------------------------------------------------------------------------------

    def _tweet_json(self, tweet: JsonDict, shape: _Shape) -> JsonDict:
        data: JsonDict = {
            "id": tweet["id"],
            "text": tweet["text"],
            "edit_history_tweet_ids": list(tweet["edit_history_tweet_ids"]),
        }
        for name in sorted(shape.tweet_fields):
            if name in tweet and name not in data:
                data[name] = tweet[name]
        return data

    def _includes(self, tweets: list[JsonDict], shape: _Shape) -> JsonDict:
        users: dict[str, JsonDict] = {}
        included: dict[str, JsonDict] = {}
        for tweet in tweets:
            for user_id in self._users_expanded(tweet, shape):
                user = self._users.get(str(user_id))
                if user is not None and user["id"] not in users:
                    users[user["id"]] = self._user_json(user, shape.user_fields)
            if "referenced_tweets.id" in shape.expansions:
                for parent in self._parents(tweet):
                    included.setdefault(parent["id"], self._tweet_json(parent, shape))
        includes: JsonDict = {}
        if users:
            includes["users"] = list(users.values())
        if included:
            includes["tweets"] = list(included.values())
        return includes

    def _parents(self, tweet: JsonDict) -> list[JsonDict]:
        found = (self._tweets.get(ref["id"]) for ref in tweet.get("referenced_tweets") or [])
        return [parent for parent in found if parent is not None]

    def _users_expanded(self, tweet: JsonDict, shape: _Shape) -> list[Any]:
        """Ids of the users a post's expansions name: author, reply-to, mentions, parents' authors."""
        ids: list[Any] = []
        if "author_id" in shape.expansions:
            ids.append(tweet["author_id"])
        if "in_reply_to_user_id" in shape.expansions and tweet.get("in_reply_to_user_id"):
            ids.append(tweet["in_reply_to_user_id"])
        if "entities.mentions.username" in shape.expansions:
            mentioned = (self._by_username(name) for name in re.findall(r"@(\w+)", tweet["text"]))
            ids += [user["id"] for user in mentioned if user is not None]
        if "referenced_tweets.id.author_id" in shape.expansions:
            ids += [parent["author_id"] for parent in self._parents(tweet)]
        return ids

    async def _user_tweets(self, call: _Call) -> web.StreamResponse:
        user_id = self._checked_id("id", call.args["id"])
        query = call.query
        shape = _shape(query, TWEET_EXPANSIONS)
        raw_max = query.get("max_results", "10")
        if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
            raise _bad_param(
                "max_results",
                raw_max,
                f"The `max_results` query parameter value [{raw_max}] is not between 5 and 100",
            )
        size = int(raw_max)
        since_id, until_id = _id_param(query, "since_id"), _id_param(query, "until_id")
        start, end = _time_param(query, "start_time"), _time_param(query, "end_time")
        excluded = _csv(query, "exclude", frozenset({"retweets", "replies"}))
        if user_id not in self._users:
            return call.reply(
                {"errors": [_not_found("id", user_id, f"Could not find user with id: [{user_id}].")]}
            )

        def wanted(tweet: JsonDict) -> bool:
            number = int(tweet["id"])
            kinds = {ref["type"] for ref in tweet.get("referenced_tweets") or []}
            created = _parse_time(tweet["created_at"])
            return not (
                (since_id is not None and number <= since_id)
                or (until_id is not None and number >= until_id)
                or (start is not None and created < start)
                or (end is not None and created >= end)
                or ("retweets" in excluded and "retweeted" in kinds)
                or ("replies" in excluded and "replied_to" in kinds)
            )

        candidates = [t for t in self.timeline(user_id) if wanted(t)]  # newest first
        token = query.get("pagination_token")
        if token is None:
            page = candidates[:size]
        else:
            try:
                kind, bound, owner = _decode_token(token)
            except ValueError:
                kind, bound, owner = "", 0, ""
            if kind not in ("next", "prev") or owner != user_id:
                raise _bad_param(
                    "pagination_token",
                    token,
                    f"The `pagination_token` query parameter value [{token}] is not valid",
                )
            if kind == "next":
                page = [t for t in candidates if int(t["id"]) < bound][:size]
            else:
                page = [t for t in candidates if int(t["id"]) > bound][-size:]
        meta: JsonDict = {"result_count": len(page)}
        body: JsonDict = {}
        if page:
            newest, oldest = int(page[0]["id"]), int(page[-1]["id"])
            body["data"] = [self._tweet_json(t, shape) for t in page]
            includes = self._includes(page, shape)
            if includes:
                body["includes"] = includes
            meta.update({"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]})
            if any(int(t["id"]) < oldest for t in candidates):
                meta["next_token"] = _encode_token("next", oldest, user_id)
            if token is not None and any(int(t["id"]) > newest for t in candidates):
                meta["previous_token"] = _encode_token("prev", newest, user_id)
        body["meta"] = meta
        return call.reply(body)

    # --- rules --------------------------------------------------------------------------------

    def _sent(self) -> str:
        return _iso(datetime.fromtimestamp(self._clock(), UTC))

    async def _get_rules(self, call: _Call) -> web.StreamResponse:
        rules = self._rules
        ids = call.query.get("ids")
        if ids is not None:
            wanted = set(ids.split(","))
            rules = [rule for rule in rules if rule.id in wanted]
        body: JsonDict = {}
        if rules:
            body["data"] = [rule.json() for rule in rules]
        body["meta"] = {"sent": self._sent(), "result_count": len(rules)}
        return call.reply(body)

    async def _post_rules(self, call: _Call) -> web.StreamResponse:
        body = call.body
        dry_run = call.query.get("dry_run", "false").lower()
        if dry_run not in ("true", "false"):
            raise _bad_param(
                "dry_run",
                dry_run,
                f"The `dry_run` query parameter value [{dry_run}] is not one of [true,false]",
            )
        if not isinstance(body, dict) or (("add" in body) == ("delete" in body)):
            # X's schema is oneOf {"add": [...]} / {"delete": {...}}: one of them, never both.
            raise _invalid_request(
                [{"message": 'Request body must be either {"add": [...]} or {"delete": {...}}'}]
            )
        if "add" in body:
            return call.reply(self._add_rules(body["add"], dry_run == "true"))
        return call.reply(self._delete_rules(body["delete"], dry_run == "true"))

    def _add_rules(self, add: Any, dry_run: bool) -> JsonDict:
        if not isinstance(add, list) or not add or not all(isinstance(item, dict) for item in add):
            raise _invalid_request(
                [{"message": '`add` must be a non-empty array of {"value", "tag"} objects'}]
            )
        errors: list[JsonDict] = []
        seen: set[str] = set()
        for item in add:
            problem = self._rule_problem(item.get("value"), seen)
            if problem is not None:
                errors.append(problem)
            seen.add(str(item.get("value")))
        valid = len(add) - len(errors)
        summary = {"created": 0, "not_created": len(add), "valid": valid, "invalid": len(errors)}
        if not errors and len(self._rules) + len(add) > self.max_rules:
            errors.append(
                {
                    "title": "RulesCapExceeded",
                    "detail": "Rule creation failed: this request would take the rules to"
                    f" {len(self._rules) + len(add)}, over the limit of {self.max_rules}",
                    "type": PROBLEMS + "rule-cap",
                }
            )
        body: JsonDict = {}
        if not errors:
            # All or nothing, as X: one refused rule and none of the request's rules is created.
            created = [
                _Rule(self._claim_id(None), item["value"], item.get("tag"), compile_rule(item["value"]))
                for item in add
            ]
            if not dry_run:
                self._rules.extend(created)
            body["data"] = [rule.json() for rule in created]
            summary.update({"created": len(created), "not_created": 0})
        body["meta"] = {"sent": self._sent(), "summary": summary}
        if errors:
            body["errors"] = errors
        return body

    def _delete_rules(self, delete: Any, dry_run: bool) -> JsonDict:
        if not isinstance(delete, dict) or not (delete.get("ids") or delete.get("values")):
            raise _invalid_request([{"message": "`delete` must hold a non-empty `ids` or `values` array"}])
        ids = [str(i) for i in delete.get("ids") or []]
        values = [str(v) for v in delete.get("values") or []]
        doomed = [r for r in self._rules if r.id in ids or r.value in values]
        missing = [i for i in ids if all(r.id != i for r in doomed)]
        missing += [v for v in values if all(r.value != v for r in doomed)]
        if not dry_run:
            self._rules = [r for r in self._rules if r not in doomed]
        body: JsonDict = {
            "meta": {"sent": self._sent(), "summary": {"deleted": len(doomed), "not_deleted": len(missing)}}
        }
        if missing:
            body["errors"] = [
                {
                    "errors": [{"parameters": {}, "message": "Rule does not exist"}],
                    "value": value,
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": PROBLEMS + "invalid-request",
                }
                for value in missing
            ]
        return body

    # --- the filtered stream ------------------------------------------------------------------

    async def _stream(self, call: _Call) -> web.StreamResponse:
        current = self._conn
        if current is not None and current.alive():
            # A client that timed out and reconnected at once may be faster than its old socket's
            # close reaches this server over loopback: give the old connection a moment to go.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.25):
                    while current.alive():
                        await asyncio.sleep(0.005)
            if current.alive():
                raise _XError(429, dict(TOO_MANY_CONNECTIONS))
        if not self._rules:
            raise _XError(409, dict(NO_RULES))
        shape = _shape(call.query, TWEET_EXPANSIONS)
        backfill = call.query.get("backfill_minutes")
        if backfill is not None and not (backfill.isdigit() and 0 <= int(backfill) <= 5):
            raise _bad_param(
                "backfill_minutes",
                backfill,
                f"The `backfill_minutes` query parameter value [{backfill}] is not between 0 and 5",
            )
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "application/json; charset=utf-8", **call.headers}
        )
        response.enable_chunked_encoding()
        await response.prepare(call.request)
        call.record.status = 200
        self.stream_connections += 1
        conn = _StreamConn(call.request, shape, self.stream_connections)
        self._conn = conn
        self._signal_stream()
        try:
            await self._pump(conn, response)
        finally:
            conn.open = False
            if self._conn is conn:
                self._conn = None
            self._signal_stream()
        return response

    async def _pump(self, conn: _StreamConn, response: web.StreamResponse) -> None:
        while True:
            try:
                item: bytes | _Signal = await asyncio.wait_for(conn.queue.get(), self.keepalive_seconds)
            except TimeoutError:
                item = b"\r\n"
            if item is _Signal.CLOSE:
                return
            if item is _Signal.DROP:
                # No terminating chunk: the client sees the body end mid-stream, as when X drops it.
                transport = conn.request.transport
                if transport is not None:
                    transport.close()
                raise asyncio.CancelledError
            if conn.stalled or not isinstance(item, bytes):
                continue
            try:
                await response.write(item)
            except (ConnectionError, aiohttp.ClientConnectionResetError):
                return
