"""A fake X (Twitter) API v2 for tests: the real tweepy async clients talk to it over HTTP on 127.0.0.1.

`FakeX` serves the v2 endpoints the bot uses on 127.0.0.1 (a free port) with aiohttp. The clients are
tweepy's own `AsyncClient` and `AsyncStreamingClient`, redirected by the small subclasses in `clients`
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

The package, one part per module: `spec` (endpoints, fields, X's bodies), `clients` (tweepy redirected),
`rule_language`, `params`, `errors`, `records`, and FakeX built from `core`, `posts`, `stream`,
`stream_rules`, `lookups`, `limits` and `server`. Import from here: every public name is re-exported.
"""

from __future__ import annotations

from tests.fakes.x_api.clients import (
    LocalAsyncClient,
    LocalAsyncStreamingClient,
    TweepyClients,
    redirect_url,
    redirected_session,
    scaled_stream_backoff,
    tweepy_clients_for,
)
from tests.fakes.x_api.records import Handler, XRequest
from tests.fakes.x_api.rule_language import RuleError, compile_rule
from tests.fakes.x_api.server import FakeX
from tests.fakes.x_api.spec import (
    BEARER_TOKEN,
    DEFAULT_KEEPALIVE_SECONDS,
    DEFAULT_MAX_RULE_LENGTH,
    DEFAULT_MAX_RULES,
    DEFAULT_RATE_LIMITS,
    GET_RULES,
    NO_RULES,
    PAGE_NOT_FOUND,
    POST_RULES,
    PROBLEMS,
    RATE_WINDOW_SECONDS,
    STREAM,
    TOO_MANY_CONNECTIONS,
    TOO_MANY_REQUESTS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    TWITTER_EPOCH_MS,
    UNAUTHORIZED,
    USER_BY_ID,
    USER_BY_USERNAME,
    USER_EXPANSIONS,
    USER_FIELDS,
    USER_TWEETS,
    USERS_BY_IDS,
    USERS_BY_USERNAMES,
    X_API_HOSTS,
    JsonDict,
)

__all__ = [
    "BEARER_TOKEN",
    "DEFAULT_KEEPALIVE_SECONDS",
    "DEFAULT_MAX_RULES",
    "DEFAULT_MAX_RULE_LENGTH",
    "DEFAULT_RATE_LIMITS",
    "GET_RULES",
    "NO_RULES",
    "PAGE_NOT_FOUND",
    "POST_RULES",
    "PROBLEMS",
    "RATE_WINDOW_SECONDS",
    "STREAM",
    "TOO_MANY_CONNECTIONS",
    "TOO_MANY_REQUESTS",
    "TWEET_EXPANSIONS",
    "TWEET_FIELDS",
    "TWITTER_EPOCH_MS",
    "UNAUTHORIZED",
    "USERS_BY_IDS",
    "USERS_BY_USERNAMES",
    "USER_BY_ID",
    "USER_BY_USERNAME",
    "USER_EXPANSIONS",
    "USER_FIELDS",
    "USER_TWEETS",
    "X_API_HOSTS",
    "FakeX",
    "Handler",
    "JsonDict",
    "LocalAsyncClient",
    "LocalAsyncStreamingClient",
    "RuleError",
    "TweepyClients",
    "XRequest",
    "compile_rule",
    "redirect_url",
    "redirected_session",
    "scaled_stream_backoff",
    "tweepy_clients_for",
]
