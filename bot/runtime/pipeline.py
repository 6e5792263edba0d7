"""The path of one post: matched by the rules, then recorded in Redis (dedup, events, outbox).

Redis may go away while the bot runs. A matched post that cannot be recorded waits in a bounded
in-memory queue, in order, and is recorded when Redis answers again; a post that does not fit is
counted and logged by id, never dropped in silence. Posts without a match never touch Redis.
`build_pipeline` is the one place the stages are wired together.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.backoff import retrying
from bot.posts import Post
from bot.rules import CompiledRules, Detector, Match
from bot.rules.engine import Denial
from bot.runtime import metrics
from bot.store.events import EventRecorder, Recorded, speakers_from
from bot.store.keys import Keys

log = logging.getLogger(__name__)

HELD_POSTS_LIMIT = 10_000
# While Redis is down, held posts are retried with back-off up to this wait between tries.
HELD_RETRY_MAX_SECONDS = 10.0
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass
class PipelineStats:
    posts: int = 0
    matched: int = 0
    duplicates: int = 0
    alerts: int = 0
    updates: int = 0
    folded: int = 0  # posts shown under an event but not counted: retweets, copies, same outlet
    contested: int = 0  # alerted events a later denial contested
    held: int = 0
    lost: int = 0


class Pipeline:
    def __init__(
        self, detector: Detector, recorder: EventRecorder, held_limit: int = HELD_POSTS_LIMIT
    ) -> None:
        self.detector = detector
        self.recorder = recorder
        self.stats = PipelineStats()
        self._held: deque[tuple[Post, list[Match]]] = deque()
        self._held_limit = held_limit
        self._flushing: asyncio.Task[None] | None = None

    @property
    def rules(self) -> CompiledRules:
        return self.detector.compiled

    def use_rules(self, compiled: CompiledRules) -> None:
        """Swap in reloaded rules between two posts."""
        self.detector = Detector(compiled)
        self.recorder.use_rules({r.id: r for r in compiled.source.rules}, speakers_from(compiled.source))

    async def submit(self, post: Post) -> list[Match]:
        """Match one post and record its matches; returns the matches."""
        self.stats.posts += 1
        metrics.POSTS.labels(post.source).inc()
        matches, denials = self.detector.examine(post)
        if denials:
            await self._contest(post, denials)
        if not matches:
            return matches
        self.stats.matched += 1
        for m in matches:
            metrics.MATCHES.labels(m.rule).inc()
        if self._held:  # keep order: nothing overtakes what is already waiting for Redis
            self._hold(post, matches)
            return matches
        try:
            await self._record(post, matches)
        except _REDIS_DOWN as exc:
            log.warning("Redis unavailable (%s); holding matched posts in memory until it returns", exc)
            self._hold(post, matches)
        return matches

    async def _record(self, post: Post, matches: list[Match]) -> Recorded:
        result = await self.recorder.record(post, matches)
        if result.status == "duplicate":
            self.stats.duplicates += 1
        if any(event.folded for event in result.events):
            self.stats.folded += 1
        for event in result.events:
            if event.kind == "alert":
                self.stats.alerts += 1
            elif event.kind == "update":
                self.stats.updates += 1
        return result

    async def _contest(self, post: Post, denials: list[Denial]) -> None:
        """A post denying a place already alerted ("X has not fallen") contests that event."""
        try:
            contested = await self.recorder.contest(post, denials)
        except _REDIS_DOWN as exc:
            log.warning("Redis unavailable (%s); the denial in post %s was not recorded", exc, post.id)
            return
        self.stats.contested += len(contested)

    def _hold(self, post: Post, matches: list[Match]) -> None:
        if len(self._held) >= self._held_limit:
            self.stats.lost += 1
            log.error(
                "post %s lost: Redis is down and %d matched posts already wait", post.id, self._held_limit
            )
            return
        self._held.append((post, matches))
        self.stats.held = len(self._held)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_held())

    async def _flush_held(self) -> None:
        while self._held:
            post, matches = self._held[0]
            async for attempt in retrying(
                lambda e: isinstance(e, _REDIS_DOWN), "recording held posts", maximum=HELD_RETRY_MAX_SECONDS
            ):
                with attempt:
                    await self._record(post, matches)
            self._held.popleft()
            self.stats.held = len(self._held)
        log.info("Redis is back; every held post was recorded")

    async def wait_held(self) -> None:
        """Until every held post is recorded (returns at once when none waits)."""
        if self._flushing is not None:
            await self._flushing


def build_pipeline(compiled: CompiledRules, client: aioredis.Redis, keys: Keys) -> Pipeline:
    """The one wiring of detector and recorder, for `run`, `replay`, `demo` and the benchmarks."""
    rules = {r.id: r for r in compiled.source.rules}
    recorder = EventRecorder(client, rules, speakers_from(compiled.source), keys)
    return Pipeline(Detector(compiled), recorder)
