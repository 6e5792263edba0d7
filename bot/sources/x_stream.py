"""Posts from X's filtered stream, through tweepy's asyncio streaming client.

Stream rules are compiled from the watched accounts (bot/sources/x_rules.py) and synced by diff at
start (retried with back-off while X cannot be reached) and after every reload. tweepy reconnects
with X's documented back-off (network errors: linear from 0.25 s to 16 s; HTTP errors: exponential
from 5 s to 320 s; 429: from 60 s) and drops a connection silent for longer than X's keep-alive
interval; each reconnect is logged and counted here. A payload that is not a post is logged,
trimmed, and skipped. A rejected token stops the stream with one clear line and leaves the rest of
the bot running.

Reconnecting is routine (X drops streams; tweepy is back within seconds), so the stream reports
itself unhealthy only once it has been without a connection for over DOWN_AFTER_SECONDS; a refused
token is unhealthy at once, since no retry can mend it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from tweepy import StreamRule as TweepyRule
from tweepy import TweepyException
from tweepy.asynchronous import AsyncStreamingClient

from bot.backoff import describe, retrying
from bot.posts import BadPostLine, parse_x_payload, trimmed
from bot.runtime import metrics
from bot.sources import Emit, SourceState, end_task
from bot.sources.x_http import STALL_SECONDS, RedirectingSession, x_error_is_transient, x_refusal
from bot.sources.x_rules import (
    DEFAULT_MAX_RULE_CHARS,
    DEFAULT_MAX_RULES,
    RuleSync,
    TooManyAccounts,
    diff_rules,
    stream_rules,
)

log = logging.getLogger(__name__)

# What each post must carry for a Post: author handle, language, time, references, the full text.
POST_FIELDS = {
    "expansions": ["author_id", "referenced_tweets.id"],
    "tweet_fields": ["created_at", "lang", "author_id", "referenced_tweets", "note_tweet"],
    "user_fields": ["username"],
}
RAW_LOG_CHARS = 300
# Without a connection for longer than this, the stream is down (health, admins' notices); before, a
# reconnect in progress. Read when a source is built, so a test can shorten it.
DOWN_AFTER_SECONDS = 120.0


@dataclass
class StreamStats:
    posts: int = 0
    malformed: int = 0
    reconnects: int = 0
    connected: bool = False
    stopped_reason: str = ""
    # Since when the stream has had no connection (epoch seconds; the start counts), and why.
    offline_since: float = field(default_factory=time.time)
    offline_reason: str = "connecting"

    def lost(self, reason: str) -> None:
        """The connection ended or could not be made; the time counts from the first loss."""
        if self.connected:
            self.offline_since = time.time()
        self.connected = False
        self.offline_reason = reason


class _Listener(AsyncStreamingClient):  # type: ignore[misc]
    """tweepy's client with our callbacks: posts go to `emit`, everything else is counted."""

    emit: Emit

    def __init__(self, bearer_token: str, stats: StreamStats) -> None:
        super().__init__(bearer_token, max_retries=float("inf"))
        self.stats = stats

    async def on_connect(self) -> None:
        self.stats.connected = True
        log.info("X stream connected")

    async def on_data(self, raw_data: bytes) -> None:
        try:
            post = parse_x_payload(raw_data, source="x-stream")
        except Exception as exc:  # only BadPostLine is expected; tweepy ends the stream on any exception
            self.stats.malformed += 1
            reason = str(exc) if isinstance(exc, BadPostLine) else type(exc).__name__
            log.warning(
                "X stream: skipped a malformed payload (%s): %s", reason, trimmed(raw_data, RAW_LOG_CHARS)
            )
            return
        if post is None:
            log.info("X stream message without a post: %s", trimmed(raw_data, RAW_LOG_CHARS))
            return
        self.stats.posts += 1
        try:
            await self.emit(post)
        except Exception:  # tweepy ends the stream for good on any exception from a callback
            log.exception("X stream: post %s could not be processed; the stream goes on", post.id)

    async def on_closed(self, resp: Any) -> None:
        self.stats.lost("X closed the stream")
        self.stats.reconnects += 1
        metrics.RECONNECTS.inc()
        log.warning("X stream closed by the server; reconnecting (reconnect #%d)", self.stats.reconnects)

    async def on_connection_error(self) -> None:
        self.stats.lost("connection lost or stalled")
        self.stats.reconnects += 1
        metrics.RECONNECTS.inc()
        log.warning(
            "X stream connection lost or stalled; reconnecting (reconnect #%d)", self.stats.reconnects
        )

    async def on_request_error(self, status_code: int) -> None:
        self.stats.lost(f"X answered HTTP {status_code}")
        if status_code in (401, 403):
            self.stats.stopped_reason = (
                f"X refused the bearer token (HTTP {status_code}); check X_BEARER_TOKEN"
            )
            log.error("X stream stopped: %s. Telegram keeps working.", self.stats.stopped_reason)
            self.disconnect()
            return
        self.stats.reconnects += 1
        metrics.RECONNECTS.inc()
        log.warning(
            "X stream: HTTP %d; tweepy backs off and reconnects (#%d)", status_code, self.stats.reconnects
        )


class XStreamSource:
    """The filtered stream as a `Source`: rules synced (retried with back-off), then tweepy's stream."""

    name = "X stream"

    def __init__(
        self,
        bearer_token: str,
        base_url: str,
        accounts: list[str],
        max_rules: int = DEFAULT_MAX_RULES,
        max_rule_chars: int = DEFAULT_MAX_RULE_CHARS,
        stall_seconds: float = STALL_SECONDS,
        down_after_seconds: float | None = None,
    ) -> None:
        self.stats = StreamStats()
        self.down_after = DOWN_AFTER_SECONDS if down_after_seconds is None else down_after_seconds
        self.client = _Listener(bearer_token, self.stats)
        self.client.session = RedirectingSession(base_url, stall_seconds)
        self.base_url = base_url
        self.accounts = accounts
        self.max_rules = max_rules
        self.max_rule_chars = max_rule_chars
        self.problem = "starting"
        self._task: asyncio.Task[None] | None = None

    async def start(self, emit: Emit) -> None:
        self.client.emit = emit
        self._task = asyncio.create_task(self._run(), name="x-stream")

    async def _run(self) -> None:
        try:
            async for attempt in retrying(x_error_is_transient, f"X stream rules sync at {self.base_url}"):
                with attempt:
                    try:
                        await self.sync_rules(self.accounts)
                    except Exception as exc:
                        self.problem = f"cannot sync stream rules with X: {describe(exc)}; retrying"
                        raise
        except (TweepyException, TooManyAccounts) as exc:
            self.stats.stopped_reason = x_refusal(exc) or f"stream rules refused: {describe(exc)}"
            log.error("X stream not started: %s. Telegram keeps working.", self.stats.stopped_reason)
            return
        self.problem = ""
        await self.client.filter(**POST_FIELDS)

    async def watch(self, accounts: list[str]) -> None:
        """New accounts after a reload: the stream rules are re-synced (the connection stays)."""
        self.accounts = accounts
        if self._task is not None and not self._task.done() and not self.problem:
            await self.sync_rules(accounts)

    async def sync_rules(self, accounts: list[str]) -> RuleSync:
        """Make X's stream rules match the watched accounts: add new, delete stale, keep the rest."""
        wanted = stream_rules(accounts, self.max_rules, self.max_rule_chars)
        response = await self.client.get_rules()
        current = [(r.id, r.value, r.tag or "") for r in (response.data or [])]
        sync = diff_rules(wanted, current)
        if sync.delete_ids:
            await self.client.delete_rules(sync.delete_ids)
        if sync.add:
            await self.client.add_rules([TweepyRule(value=r.value, tag=r.tag) for r in sync.add])
        log.info(
            "X stream rules: %d added, %d deleted, %d kept", len(sync.add), len(sync.delete_ids), sync.keep
        )
        return sync

    def state(self) -> SourceState:
        s = self.stats
        counts = f"{s.posts} posts, {s.reconnects} reconnects, {s.malformed} malformed"
        if s.stopped_reason:
            return SourceState(self.name, False, f"stopped: {s.stopped_reason}")
        if s.connected:
            return SourceState(self.name, True, f"connected; {counts}")
        since = time.strftime("%H:%M:%S UTC", time.gmtime(s.offline_since))
        why = self.problem or s.offline_reason
        if time.time() - s.offline_since > self.down_after:
            return SourceState(self.name, False, f"down: no connection since {since} ({why}); {counts}")
        return SourceState(self.name, True, f"reconnecting since {since} ({why}); {counts}")

    async def stop(self) -> None:
        self.client.disconnect()
        await end_task(self._task)
        if self.client.task is not None:
            try:
                await self.client.task
            except Exception as exc:  # the task ends with whatever stopped it; stopping is the point
                log.debug("X stream task ended: %s", exc)
        await self.client.session.close()
