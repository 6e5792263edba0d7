"""What every part of FakeX shares: its state, post ids, and posts and users rendered as X renders
them in answers, or as the rule matcher sees a post.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

from tests.fakes.loopback import LoopbackServer
from tests.fakes.x_api.params import _Shape
from tests.fakes.x_api.records import XRequest, _Bucket, _Fault, _Rule, _StreamConn
from tests.fakes.x_api.rule_language import _PostView, _words
from tests.fakes.x_api.spec import _ID_RE, TWITTER_EPOCH_MS, JsonDict


class _FakeXCore(LoopbackServer):
    """The state FakeX's parts work on (FakeX.__init__ sets it) and the helpers they all use."""

    bearer_token: str
    keepalive_seconds: float
    max_rules: int
    max_rule_length: int
    requests: list[XRequest]
    stream_connections: int
    stream_sent: list[JsonDict]
    undelivered: list[JsonDict]
    _clock: Callable[[], float]
    _limits: dict[str, int | None]
    _windows: dict[str, float]
    _buckets: dict[str, _Bucket]
    _users: dict[str, JsonDict]
    _tweets: dict[str, JsonDict]
    _timelines: dict[str, list[str]]
    _rules: list[_Rule]
    _faults: list[_Fault]
    _last_id: int
    _conn: _StreamConn | None
    _stream_event: asyncio.Event

    def _claim_id(self, wanted: str | None) -> str:
        if wanted is not None:
            if not _ID_RE.fullmatch(wanted) or wanted in self._tweets:
                raise ValueError(f"post id {wanted!r} is not a new numeric id")
            self._last_id = max(self._last_id, int(wanted))
            return wanted
        milliseconds = int(self._clock() * 1000)
        self._last_id = max((milliseconds - TWITTER_EPOCH_MS) << 22, self._last_id + 1)
        return str(self._last_id)

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

    # --- the rule matcher's view --------------------------------------------------------------

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
