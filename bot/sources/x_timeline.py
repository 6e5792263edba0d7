"""Posts from X user timelines, polled through tweepy's asyncio client, for access levels without
the filtered stream.

Each account's user id is looked up once and kept in Redis, and so is the id of the newest post
read from it (`since_id`): a restart neither misses nor repeats a post. The first poll of an
account only notes where its timeline stands (watching starts now; old posts raise nothing). A 429
pauses polling until X's reset time; posts read count against a monthly budget (UTC months, counted
in Redis for every process), with a warning at 80% and a stop at 100%, which makes the source
unhealthy until the next month begins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis
from tweepy import BadRequest, TooManyRequests, TweepyException
from tweepy.asynchronous import AsyncClient

from bot.backoff import describe
from bot.posts import BadPostLine, Post, post_from_x_v2, trimmed
from bot.sources import Emit, SourceState, end_task
from bot.sources.x_http import RedirectingSession, x_error_is_transient, x_refusal
from bot.sources.x_stream import POST_FIELDS
from bot.store.keys import X_READS_TTL_SECONDS, Keys

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 300.0
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
    name = "X timelines"

    def __init__(
        self,
        bearer_token: str,
        base_url: str,
        client: aioredis.Redis,
        keys: Keys,
        accounts: list[str],
        monthly_read_budget: int,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.x = _HeaderAwareClient(bearer_token)
        self.x.session = RedirectingSession(base_url)
        self.redis = client
        self.keys = keys
        self.accounts = accounts
        self.budget = monthly_read_budget
        self.poll_seconds = poll_seconds
        self.emit: Emit | None = None
        self.paused_until = 0.0
        self.next_round_at = 0.0
        self.reads = 0
        self.rounds = 0
        self.problem = ""
        self.stopped_reason = ""
        self.spent_month = ""  # the month ("2026-11") whose read budget is spent, once seen
        self._warned_month = ""
        self._task: asyncio.Task[None] | None = None

    async def start(self, emit: Emit) -> None:
        self.emit = emit
        self._task = asyncio.create_task(self._poll_forever(), name="x-timelines")

    async def _poll_forever(self) -> None:
        """A round now, then one every poll_seconds (later when X's rate-limit headers say so)."""
        while not self.stopped_reason:
            await self.poll_all(self.accounts)
            wait = max(self.poll_seconds, self.next_round_at - time.time(), self.paused_until - time.time())
            await asyncio.sleep(wait)

    async def watch(self, accounts: list[str]) -> None:
        self.accounts = accounts

    def state(self) -> SourceState:
        if self.stopped_reason:
            return SourceState(self.name, False, f"stopped: {self.stopped_reason}")
        if self.spent_month == budget_month():
            spent = f"monthly X read budget of {self.budget:,} spent"
            return SourceState(self.name, False, f"{spent}; polling resumes on {budget_resumes_on()}")
        if self.problem:
            return SourceState(self.name, False, f"down: {self.problem}")
        return SourceState(
            self.name,
            True,
            f"polled every {self.poll_seconds:.0f} s; {self.reads} posts read, {self.rounds} rounds",
        )

    async def poll_all(self, accounts: list[str]) -> int:
        """One round over every account; returns how many posts were emitted.

        A round called before the spacing the rate-limit headers allow is skipped.
        """
        if time.time() < self.next_round_at:
            return 0
        emitted = 0
        self.problem = ""
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
            except Exception as exc:
                if not self._note_failure(handle, exc):
                    break
        self.rounds += 1
        self._space_rounds(len(accounts))
        return emitted

    def _note_failure(self, handle: str, exc: Exception) -> bool:
        """Log a failed account; False when the whole round should stop (X refused us or is down)."""
        refusal = x_refusal(exc)
        if refusal is not None and not isinstance(exc, BadRequest):
            self.stopped_reason = refusal
            log.error("X timelines stopped: %s. Telegram keeps working.", refusal)
            return False
        if x_error_is_transient(exc):
            self.problem = f"cannot reach X at {self.x.session.base_url}: {describe(exc)}"
            log.warning("X timelines: %s; next round in %.0f s", self.problem, self.poll_seconds)
            return False
        if not isinstance(exc, TweepyException):
            raise exc
        log.error("X timeline of @%s could not be read: %s", handle, exc)
        return True

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
            if self.emit is not None:
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
        users = [getattr(u, "data", u) for u in (response.includes or {}).get("users") or []]
        posts = []
        for tweet in response.data or []:
            raw = getattr(tweet, "data", tweet)
            try:
                post = post_from_x_v2({"data": raw, "includes": {"users": users}}, source="x-timeline")
                if not (post.id.isascii() and post.id.isdigit()):  # since_id and ordering need X's numbers
                    raise BadPostLine("field 'id': not an X post id")
            except Exception as exc:  # one malformed post is skipped, never the rest of the poll
                log.warning("X timeline: skipped a malformed post (%s): %s", exc, trimmed(str(raw)))
                continue
            posts.append(post)
        return posts

    async def _count_reads(self, n: int) -> None:
        self.reads += n
        month = budget_month()
        total = int(await self.redis.incrby(self.keys.x_reads(month), n))
        await self.redis.expire(self.keys.x_reads(month), X_READS_TTL_SECONDS)
        if total >= self.budget * BUDGET_WARNING_SHARE and self._warned_month != month:
            self._warned_month = month
            log.warning("X read budget: %d of %d posts read this month", total, self.budget)

    async def _over_budget(self) -> bool:
        month = budget_month()
        total = int(cast(str, await self.redis.get(self.keys.x_reads(month))) or 0)
        if total < self.budget:
            return False
        if self.spent_month != month:  # said once a month, not every round
            self.spent_month = month
            log.error(
                "X read budget of %d posts for %s is spent; polling resumes on %s",
                self.budget,
                month,
                budget_resumes_on(),
            )
        return True

    async def stop(self) -> None:
        await end_task(self._task)
        await self.x.session.close()


def budget_month(now: datetime | None = None) -> str:
    """The month the read budget counts ("2026-11"), in UTC like X's billing."""
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def budget_resumes_on(now: datetime | None = None) -> str:
    """The first day of the next month ("1 December 2026"), when a spent budget is new again."""
    now = now or datetime.now(UTC)
    first = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return f"{first.day} {first:%B %Y}"


def _header(response: Any, name: str) -> str | None:
    headers = getattr(response, "headers", None)
    return headers.get(name) if headers is not None else None


def _header_value(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    return int(value) if value is not None and str(value).isdigit() else None


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")
