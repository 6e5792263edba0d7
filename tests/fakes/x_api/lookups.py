"""FakeX's read endpoints: users by username(s) and id(s), and a user's posts timeline with its
filters and pagination.
"""

from __future__ import annotations

from aiohttp import web

from tests.fakes.x_api.errors import _bad_param, _invalid_request, _not_found
from tests.fakes.x_api.params import (
    _csv,
    _decode_token,
    _encode_token,
    _id_param,
    _parse_time,
    _shape,
    _time_param,
)
from tests.fakes.x_api.posts import _FakeXPosts
from tests.fakes.x_api.records import _Call
from tests.fakes.x_api.spec import (
    _ID_PATTERN,
    _ID_RE,
    _USERNAME_PATTERN,
    _USERNAME_RE,
    TWEET_EXPANSIONS,
    USER_EXPANSIONS,
    JsonDict,
)


class _FakeXLookups(_FakeXPosts):
    """The users lookups and the timeline endpoint; the timeline is `_FakeXPosts.timeline()`."""

    # --- users --------------------------------------------------------------------------------

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
