"""Posts from X user timelines, polled through tweepy's asyncio client, for access levels without
the filtered stream.

Each account's user id is looked up once and kept in Redis, and so is the id of the newest post
read from it (`since_id`): a restart neither misses nor repeats a post. The first poll of an
account only notes where its timeline stands (watching starts now; old posts raise nothing). A 429
pauses polling until X's reset time; posts read count against a monthly budget, with a warning at
80% and a stop at 100%.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis
from tweepy import TooManyRequests, TweepyException
from tweepy.asynchronous import AsyncClient

from bot.posts import BadPostLine, Post, post_from_x_v2
from bot.sources.x_http import RedirectingSession
from bot.sources.x_stream import POST_FIELDS
from bot.store.keys import Keys

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # X's maximum for a user timeline page
MAX_PAGES_PER_POLL = 5
BUDGET_WARNING_SHARE = 0.8


class _HeaderAwareClient(AsyncClient):  # type: ignore[misc]
    """tweepy's client, remembering the rate-limit headers of the last response."""

    last_headers: Any = None

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        response = await super().request(*args, **kwargs)
        self.last_headers = response.headers
        return response


class XTimelinePoller:
    def __init__(
        self,
        bearer_token: str,
        base_url: str,
        client: aioredis.Redis,
        keys: Keys,
        emit: Callable[[Post], Awaitable[object]],
        monthly_read_budget: int,
    ) -> None:
        self.x = _HeaderAwareClient(bearer_token)
        self.x.session = RedirectingSession(base_url)
        self.redis = client
        self.keys = keys
        self.emit = emit
        self.budget = monthly_read_budget
        self.paused_until = 0.0
        self.next_round_at = 0.0
        self.reads = 0
        self._warned_month = ""

    async def poll_all(self, accounts: list[str]) -> int:
        """One round over every account; returns how many posts were emitted.

        A round called before the spacing the rate-limit headers allow is skipped.
        """
        if time.time() < self.next_round_at:
            return 0
        emitted = 0
        for handle in accounts:
            if time.time() < self.paused_until or await self._over_budget():
                break
            try:
                emitted += await self.poll(handle)
            except TooManyRequests as exc:
                reset = _header(exc.response, "x-rate-limit-reset")
                self.paused_until = float(reset) if reset else time.time() + 15 * 60
                log.warning("X rate limit reached; timeline polls resume at %s", _when(self.paused_until))
                break
            except TweepyException as exc:
                log.error("X timeline of @%s could not be read: %s", handle, exc)
        self._space_rounds(len(accounts))
        return emitted

    def _space_rounds(self, accounts: int) -> None:
        """Spread what is left of the rate-limit window evenly over the rounds that fit in it."""
        remaining = _header_value(self.x.last_headers, "x-rate-limit-remaining")
        reset = _header_value(self.x.last_headers, "x-rate-limit-reset")
        if remaining is None or reset is None:
            return
        rounds_left = max(remaining // max(accounts, 1), 0)
        if rounds_left == 0:
            self.paused_until = max(self.paused_until, float(reset))
            log.warning("X rate limit nearly spent; timeline polls resume at %s", _when(reset))
            return
        self.next_round_at = time.time() + max(0.0, reset - time.time()) / (rounds_left + 1)

    async def poll(self, handle: str) -> int:
        user_id = await self.user_id(handle)
        if user_id is None:
            return 0
        since = await self.redis.hget(self.keys.x_since_ids(), handle.lower())
        if since is None:
            return await self._start_watching(handle, user_id)
        posts: list[Post] = []
        token = None
        for _ in range(MAX_PAGES_PER_POLL):
            response = await self.x.get_users_tweets(
                user_id, since_id=since, max_results=PAGE_SIZE, pagination_token=token, **POST_FIELDS
            )
            posts += self._posts(response)
            token = (response.meta or {}).get("next_token")
            if not token:
                break
        for post in sorted(posts, key=lambda p: int(p.id)):
            await self.emit(post)
        if posts:
            newest = max(posts, key=lambda p: int(p.id)).id
            await self.redis.hset(self.keys.x_since_ids(), handle.lower(), newest)
        await self._count_reads(len(posts))
        return len(posts)

    async def user_id(self, handle: str) -> str | None:
        cached = await self.redis.hget(self.keys.x_user_ids(), handle.lower())
        if cached:
            return str(cached)
        response = await self.x.get_user(username=handle)
        if response.data is None:
            log.error("X has no account @%s (check rules.yaml account_groups)", handle)
            return None
        user_id = str(response.data.id)
        await self.redis.hset(self.keys.x_user_ids(), handle.lower(), user_id)
        return user_id

    async def _start_watching(self, handle: str, user_id: str) -> int:
        response = await self.x.get_users_tweets(user_id, max_results=5, **POST_FIELDS)
        newest = (response.meta or {}).get("newest_id")
        await self.redis.hset(self.keys.x_since_ids(), handle.lower(), newest or "0")
        log.info("watching @%s from post %s on", handle, newest or "(none yet)")
        return 0

    def _posts(self, response: Any) -> list[Post]:
        users = [u.data for u in (response.includes or {}).get("users", [])]
        posts = []
        for tweet in response.data or []:
            try:
                posts.append(
                    post_from_x_v2({"data": tweet.data, "includes": {"users": users}}, source="x-timeline")
                )
            except (BadPostLine, ValueError) as exc:
                log.warning("X timeline: skipped a malformed post (%s): %s", exc, str(tweet.data)[:300])
        return posts

    async def _count_reads(self, n: int) -> None:
        self.reads += n
        month = datetime.now(UTC).strftime("%Y-%m")
        total = int(await self.redis.incrby(self.keys.x_reads(month), n))
        if total >= self.budget * BUDGET_WARNING_SHARE and self._warned_month != month:
            self._warned_month = month
            log.warning("X read budget: %d of %d posts read this month", total, self.budget)

    async def _over_budget(self) -> bool:
        month = datetime.now(UTC).strftime("%Y-%m")
        total = int(cast(str, await self.redis.get(self.keys.x_reads(month))) or 0)
        if total >= self.budget:
            log.error(
                "X read budget of %d posts for %s is spent; polling stops until next month",
                self.budget,
                month,
            )
            return True
        return False

    async def close(self) -> None:
        await self.x.session.close()


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None)
    return headers.get(name) if headers is not None else None


def _header_value(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    return int(value) if value is not None and str(value).isdigit() else None


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")
