"""X API v2 as the fake serves it: the token, endpoints and their rate limits, routes, fields,
parameters, and X's own problem bodies word for word.
"""

from __future__ import annotations

import re
from typing import Any

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
