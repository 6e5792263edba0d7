"""FakeX's users and posts as a test adds them: a new post goes on its author's timeline and to the
stream when a rule matches it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tests.fakes.x_api.params import _iso
from tests.fakes.x_api.spec import _ID_RE, _USERNAME_RE, JsonDict
from tests.fakes.x_api.stream import _FakeXStream


class _FakeXPosts(_FakeXStream):
    """Users and posts a test adds; `post()` pushes to the stream, hence the base."""

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
