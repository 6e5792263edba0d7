"""What the polled sources (Mastodon, Telegram channels, RSS/Atom) share: a round over their accounts on
their own schedule, each request retried with jittered back-off, a server's Retry-After honoured, where
each account was read up to kept in Redis, malformed items skipped and counted, and one state line.

A subclass writes `poll(account)`: read its position (`position`/`keep_position`), fetch, hand new
posts to `deliver`, and on the first read of an account only note where it stands (`first_read`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
import redis.asyncio as aioredis
from pydantic import ValidationError
from selectolax.lexbor import LexborHTMLParser

from bot.backoff import describe, retrying
from bot.posts import Post, trimmed
from bot.sources import Emit, SourceState, end_task
from bot.store.keys import SOURCE_POSITION_TTL_SECONDS, Keys

log = logging.getLogger(__name__)

# Each request: tries, and the back-off between them (bot/backoff.py adds the jitter).
REQUEST_ATTEMPTS = 3
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 30.0
# Without a Retry-After, a 429 pauses the account this long.
DEFAULT_PAUSE_SECONDS = 300.0
MAX_PAGE_BYTES = 5 * 1024 * 1024  # the largest feed, page or timeline read; past it the read fails
USER_AGENT = "frontwatch/0.1 (+https://github.com/frontwatch; alerts when a city is reported fallen)"
_BLOCK_TAGS = "p, div, li, blockquote, h1, h2, h3, h4, h5, h6, tr"


class HttpStatus(Exception):
    """A response that is not a success: its status, and how long Retry-After asks to wait (seconds)."""

    def __init__(self, status: int, url: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.retry_after = retry_after


def transient(error: BaseException) -> bool:
    """Worth another try soon: the network, a timeout, a server error (a 429 waits instead)."""
    if isinstance(error, HttpStatus):
        return error.status >= 500 and error.status != 501 and error.retry_after is None
    return isinstance(error, aiohttp.ClientError | TimeoutError)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def html_text(html: str) -> str:
    """Plain text of an HTML fragment: line breaks and paragraphs kept, tags and entities gone."""
    tree = LexborHTMLParser(html)
    for br in tree.css("br"):
        br.replace_with("\n")
    for block in tree.css(_BLOCK_TAGS):
        block.insert_after("\n\n")
    body = tree.body
    text = body.text(deep=True) if body is not None else ""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(lines).strip().replace("\n\n\n", "\n\n")


def new_session(headers: dict[str, str] | None = None) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
    )


async def read_body(response: aiohttp.ClientResponse) -> bytes:
    """The body, refusing more than MAX_PAGE_BYTES (a hostile server cannot fill the memory)."""
    if response.status >= 400:
        retry = retry_after_seconds(response.headers.get("Retry-After"))
        if retry is None and response.status == 429:  # Mastodon: the ISO time its rate window resets
            reset = parse_time(response.headers.get("X-RateLimit-Reset"))
            retry = max(0.0, reset.timestamp() - time.time()) if reset is not None else None
        raise HttpStatus(response.status, str(response.url.with_query(None)), retry)
    body = bytearray()
    async for chunk in response.content.iter_chunked(65_536):
        body += chunk
        if len(body) > MAX_PAGE_BYTES:
            raise HttpStatus(413, str(response.url.with_query(None)))
    return bytes(body)


class PolledSource:
    """A source reading each of its accounts every `poll_seconds`; subclasses write `poll(account)`."""

    name = "polled"
    network = "polled"

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        accounts: list[str],
        poll_seconds: float,
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.redis = client
        self.keys = keys
        self.accounts = list(accounts)
        self.poll_seconds = poll_seconds
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.emit: Emit | None = None
        self.session: aiohttp.ClientSession | None = None
        self.posts = 0
        self.rounds = 0
        self.skipped = 0
        self.problems: dict[str, str] = {}  # account -> why its last read failed
        self.paused_until: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    # --- the Source interface ---------------------------------------------------------------

    async def start(self, emit: Emit) -> None:
        self.emit = emit
        self._task = asyncio.create_task(self._poll_forever(), name=f"source-{self.network}")

    async def watch(self, accounts: list[str]) -> None:
        self.accounts = list(accounts)

    async def stop(self) -> None:
        await end_task(self._task)
        if self.session is not None:
            await self.session.close()

    def state(self) -> SourceState:
        counts = f"{self.posts} posts, {self.skipped} skipped, {self.rounds} rounds"
        if self.accounts and len(self.problems) == len(self.accounts):
            first = next(iter(self.problems.items()))
            return SourceState(self.name, False, f"down: {first[0]}: {first[1]}; {counts}")
        detail = f"{len(self.accounts)} accounts every {self.poll_seconds:g} s; {counts}"
        if self.problems:
            detail += "; failing: " + ", ".join(f"{a} ({why})" for a, why in sorted(self.problems.items()))
        return SourceState(self.name, True, detail)

    # --- rounds -----------------------------------------------------------------------------

    async def _poll_forever(self) -> None:
        while True:
            await self.poll_round()
            await asyncio.sleep(self.poll_seconds)

    async def poll_round(self) -> int:
        """One read of every account (those paused by a Retry-After wait); the posts handed on."""
        emitted = 0
        for account in list(self.accounts):
            if time.time() < self.paused_until.get(account, 0.0):
                continue
            try:
                emitted += await self._poll_retrying(account)
                self.problems.pop(account, None)
            except HttpStatus as exc:
                self._note_refusal(account, exc)
            except Exception as exc:  # one account's failure never stops the others or the source
                self._note_problem(account, describe(exc))
        self.rounds += 1
        return emitted

    async def _poll_retrying(self, account: str) -> int:
        if self.session is None or self.session.closed:
            self.session = self.new_session()
        async for attempt in retrying(
            transient,
            f"{self.name}: reading {account}",
            attempts=REQUEST_ATTEMPTS,
            first=self.retry_first,
            maximum=self.retry_max,
        ):
            with attempt:
                return await self.poll(account)
        raise AssertionError("unreachable: retrying raises after its last attempt")

    def _note_refusal(self, account: str, exc: HttpStatus) -> None:
        if exc.status in (429, 503) or exc.retry_after is not None:
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_PAUSE_SECONDS
            self.paused_until[account] = time.time() + wait
            log.warning("%s: %s asks to wait; %s is read again in %.0f s", self.name, exc, account, wait)
            self.problems[account] = f"asked to wait {wait:.0f} s"
            return
        self._note_problem(account, str(exc))

    def _note_problem(self, account: str, why: str) -> None:
        if self.problems.get(account) != why:  # said once per problem, not every round
            log.warning("%s: %s cannot be read: %s; trying again next round", self.name, account, why)
        self.problems[account] = why

    # --- for subclasses ---------------------------------------------------------------------

    def new_session(self) -> aiohttp.ClientSession:
        return new_session()

    async def poll(self, account: str) -> int:
        raise NotImplementedError

    async def position(self, account: str) -> str | None:
        value = await self.redis.hget(self.keys.source_positions(self.network), account)
        return None if value is None else str(value)

    async def keep_position(self, account: str, value: str) -> None:
        key = self.keys.source_positions(self.network)
        await self.redis.hset(key, account, value)
        await self.redis.expire(key, SOURCE_POSITION_TTL_SECONDS)

    async def first_read(self, account: str, position: str, newest: str) -> int:
        """An account read for the first time: note where it stands, hand on none of its old posts."""
        await self.keep_position(account, position)
        log.info("%s: watching %s from %s on", self.name, account, newest or "its next post")
        return 0

    async def deliver(self, posts: Iterable[Post]) -> int:
        count = 0
        for post in posts:
            if self.emit is not None:
                await self.emit(post)
            count += 1
        self.posts += count
        return count

    def skip(self, what: str, why: str, raw: str | bytes) -> None:
        """A malformed item: counted, logged trimmed, never the end of the read."""
        self.skipped += 1
        log.warning("%s: skipped a malformed %s (%s): %s", self.name, what, why, trimmed(raw))


def problem_of(exc: Exception) -> str:
    """One line on why an item is unusable, without its content (pydantic's errors name the field)."""
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False, include_input=False)[0]
        return f"field '{'.'.join(str(p) for p in first['loc']) or 'post'}': {first['msg']}"
    return describe(exc)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
