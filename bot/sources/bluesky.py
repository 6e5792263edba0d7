"""Posts from Bluesky through Jetstream, Bluesky's JSON event stream over a websocket (no account needed).

Only the watched accounts are asked for (`wantedDids`, sent as an `options_update` after connecting, so
thousands of DIDs never make a URL too long; the stream is never opened without one, since an empty list
means the whole network). Handles are resolved to DIDs through the AppView
(`com.atproto.identity.resolveHandle`) and cached in Redis. Posts and reposts are read; a repost carries
only the reposted post's address, whose text the AppView gives (`app.bsky.feed.getPosts`).

The `time_us` of the last event handled is kept in Redis after its post is handed on. A (re)connection
resumes from it, rewound a few seconds because another instance stamps events with its own clock; on
the instance that set the cursor, events up to it are skipped, elsewhere the overlap reaches the
pipeline, whose dedup absorbs it. When an instance cannot be reached the next one in the list is tried.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict

from bot.backoff import describe, retrying
from bot.posts import BadPostLine, Post, json_object, trimmed
from bot.sources import Emit, SourceState, end_task
from bot.sources.polling import HttpStatus, new_session, problem_of, read_body, transient
from bot.store.keys import BSKY_DID_TTL_SECONDS, SOURCE_POSITION_TTL_SECONDS, Keys

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
REWIND_MICROSECONDS = 5_000_000  # clocks of different Jetstream instances differ by less than this
HEARTBEAT_SECONDS = 30.0  # a websocket ping; a silent dead connection is noticed within two of them
MAX_MESSAGE_BYTES = 1_000_000  # Jetstream events are a few kilobytes; a post record is capped far lower
RECENT_EVENTS = 10_000  # events remembered to drop repeats after a reconnection within this process
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0


class Commit(BaseModel):
    model_config = ConfigDict(extra="ignore")
    operation: str
    collection: str
    rkey: str
    record: dict[str, Any] | None = None


class Event(BaseModel):
    """One Jetstream event: a commit (a record created, updated, deleted), an identity or account change."""

    model_config = ConfigDict(extra="ignore")
    did: str
    time_us: int
    kind: str
    commit: Commit | None = None
    identity: dict[str, Any] | None = None


class Refused(Exception):
    """The AppView does not know an account (a handle that resolves to nothing)."""


def _text(record: dict[str, Any]) -> Any:
    return record.get("text")


def _lang(record: dict[str, Any]) -> Any:
    langs = record.get("langs")
    return langs[0] if isinstance(langs, list) and langs else None


def _quoted(record: dict[str, Any]) -> list[dict[str, str]]:
    embed = record.get("embed")
    inner = embed.get("record") if isinstance(embed, dict) else None
    inner = inner.get("record", inner) if isinstance(inner, dict) else None  # recordWithMedia nests it
    uri = inner.get("uri") if isinstance(inner, dict) else None
    return [{"type": "quoted", "id": uri}] if isinstance(uri, str) else []


class BlueskySource:
    name = "Bluesky"

    def __init__(
        self,
        jetstream_urls: list[str],
        api_base: str,
        client: aioredis.Redis,
        keys: Keys,
        accounts: list[str],
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        self.urls = jetstream_urls
        self.api_base = api_base.rstrip("/")
        self.redis = client
        self.keys = keys
        self.accounts = list(accounts)
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.emit: Emit | None = None
        self.session: aiohttp.ClientSession | None = None
        self.handles: dict[str, str] = {}  # DID -> handle, of the watched accounts
        self.url_index = 0
        self.connected_to = ""
        self.problem = ""
        self.unknown: set[str] = set()  # handles the AppView could not resolve
        self.posts = self.skipped = self.reconnects = 0
        self._recent: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- the Source interface ---------------------------------------------------------------

    async def start(self, emit: Emit) -> None:
        self.emit = emit
        self.session = new_session()
        self._task = asyncio.create_task(self._run(), name="source-bluesky")

    async def watch(self, accounts: list[str]) -> None:
        self.accounts = list(accounts)
        try:
            dids = await self.resolve(self.accounts)
        except Exception as exc:  # the AppView is down: the next connection resolves them again
            log.warning("Bluesky: new accounts not resolved yet (%s); reconnecting", describe(exc))
            dids = []
        if self._ws is not None and not self._ws.closed:
            if dids:
                await self._ws.send_str(self._options(dids))
            else:
                await self._ws.close()  # an empty wantedDids would be the whole network
        self._changed.set()

    async def stop(self) -> None:
        await end_task(self._task)
        if self.session is not None:
            await self.session.close()

    def state(self) -> SourceState:
        counts = f"{self.posts} posts, {self.skipped} skipped, {self.reconnects} reconnects"
        unknown = f"; unknown accounts: {', '.join(sorted(self.unknown))}" if self.unknown else ""
        if self.connected_to:
            return SourceState(self.name, True, f"connected to {self.connected_to}; {counts}{unknown}")
        if not self.accounts:
            return SourceState(self.name, True, "no Bluesky accounts to watch")
        return SourceState(self.name, False, f"down: {self.problem or 'connecting'}; {counts}{unknown}")

    # --- the connection ---------------------------------------------------------------------

    async def _run(self) -> None:
        """Connect, read until the connection ends, connect again: forever, with back-off on failures."""
        while True:
            async for attempt in retrying(
                lambda exc: not isinstance(exc, asyncio.CancelledError),
                "Bluesky Jetstream",
                first=self.retry_first,
                maximum=self.retry_max,
            ):
                with attempt:
                    await self._connect_and_read()
            self.reconnects += 1

    async def _connect_and_read(self) -> None:
        """Returns when a connection that was up ends; raises when none could be made."""
        dids = await self.resolve(self.accounts)
        if not dids:
            self._changed.clear()
            await self._changed.wait()  # nothing to watch: connect once accounts are given
            return
        url = self.urls[self.url_index % len(self.urls)]
        cursor = await self._cursor()
        params = {"requireHello": "true"}
        if cursor is not None:
            params["cursor"] = str(max(0, cursor[0] - REWIND_MICROSECONDS))
        assert self.session is not None
        try:
            ws = await self.session.ws_connect(
                url, params=params, heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_MESSAGE_BYTES
            )
        except Exception as exc:
            self.url_index += 1  # fail over to the next instance
            self.problem = f"cannot reach Jetstream at {_host(url)}: {describe(exc)}"
            raise
        skip_through = cursor[0] if cursor is not None and cursor[1] == url else 0
        async with ws:
            self._ws = ws
            await ws.send_str(self._options(dids))
            self.connected_to, self.problem = _host(url), ""
            log.info("Bluesky: connected to %s for %d accounts", _host(url), len(dids))
            try:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await self._on_event(message.data, url, skip_through)
                    elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                        break
            finally:
                self._ws, self.connected_to = None, ""
        self.problem = f"connection to {_host(url)} closed; reconnecting"
        log.warning("Bluesky: the connection to %s ended (%s); reconnecting", _host(url), ws.close_code)

    def _options(self, dids: list[str]) -> str:
        payload = {"wantedCollections": [POST, REPOST], "wantedDids": dids, "maxMessageSizeBytes": 0}
        return json.dumps({"type": "options_update", "payload": payload})

    async def _cursor(self) -> tuple[int, str] | None:
        raw = await self.redis.get(self.keys.bsky_cursor())
        time_us, _, url = str(raw or "").partition(" ")
        return (int(time_us), url) if time_us.isdigit() else None

    # --- events -----------------------------------------------------------------------------

    async def _on_event(self, raw: str, url: str, skip_through: int) -> None:
        try:
            event = Event.model_validate(json_object(raw))
        except (BadPostLine, ValueError) as exc:
            self._skip(problem_of(exc) if not isinstance(exc, BadPostLine) else str(exc), raw)
            return
        if event.time_us <= skip_through:
            return
        try:
            post = await self._post(event)
        except (Refused, HttpStatus, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Bluesky: a repost by %s could not be read (%s); skipped", event.did, describe(exc))
            post = None
        except Exception as exc:  # one malformed event is skipped, never the stream
            self._skip(problem_of(exc), raw)
            post = None
        if post is not None and self.emit is not None:
            await self.emit(post)
            self.posts += 1
        await self.redis.set(
            self.keys.bsky_cursor(), f"{event.time_us} {url}", ex=SOURCE_POSITION_TTL_SECONDS
        )

    async def _post(self, event: Event) -> Post | None:
        if event.kind == "identity" and event.identity and event.did in self.handles:
            handle = event.identity.get("handle")
            if isinstance(handle, str) and handle:
                self.handles[event.did] = handle
            return None
        commit = event.commit
        if event.kind != "commit" or commit is None or commit.operation != "create" or commit.record is None:
            return None
        key = (event.did, commit.collection, commit.rkey)
        if key in self._recent:
            return None  # already handed on before a reconnection
        self._recent[key] = None
        if len(self._recent) > RECENT_EVENTS:
            self._recent.popitem(last=False)
        if commit.collection == POST:
            uri = f"at://{event.did}/{POST}/{commit.rkey}"
            return self._from_record(event.did, uri, commit.record, [], uri)
        if commit.collection == REPOST:
            subject = commit.record.get("subject")
            subject_uri = subject.get("uri") if isinstance(subject, dict) else None
            if not isinstance(subject_uri, str):
                raise ValueError("a repost without a subject uri")
            original = await self._fetch_post(subject_uri)
            refs = [{"type": "retweeted", "id": subject_uri}]
            own = f"at://{event.did}/{REPOST}/{commit.rkey}"
            return self._from_record(event.did, own, original, refs, subject_uri)
        return None

    def _from_record(
        self, did: str, uri: str, record: dict[str, Any], refs: list[dict[str, str]], shown: str
    ) -> Post:
        """A post with the record's text; `shown` is the post its link opens (the original of a repost)."""
        handle = self.handles.get(did, did)
        shown_did, _, shown_rkey = shown.removeprefix("at://").partition(f"/{POST}/")
        return Post.model_validate(
            {
                "id": uri,
                "text": _text(record),
                "author": handle,
                "lang": _lang(record),
                "created_at": record.get("createdAt"),
                "url": f"https://bsky.app/profile/{self.handles.get(shown_did, shown_did)}/post/{shown_rkey}",
                "refs": refs + _quoted(record),
                "source": "bluesky",
            }
        )

    def _skip(self, why: str, raw: str) -> None:
        self.skipped += 1
        log.warning("Bluesky: skipped a malformed event (%s): %s", why, trimmed(raw))

    # --- the AppView ------------------------------------------------------------------------

    async def _xrpc(self, method: str, params: dict[str, str]) -> dict[str, Any]:
        assert self.session is not None
        async for attempt in retrying(transient, f"Bluesky {method}", 3, self.retry_first, self.retry_max):
            with attempt:
                async with self.session.get(f"{self.api_base}/xrpc/{method}", params=params) as response:
                    if response.status == 400:
                        raise Refused(f"{method} refused {params}")
                    return json_object(await read_body(response))
        raise AssertionError("unreachable: retrying raises after its last attempt")

    async def _fetch_post(self, uri: str) -> dict[str, Any]:
        found = await self._xrpc("app.bsky.feed.getPosts", {"uris": uri})
        posts = found.get("posts")
        record = posts[0].get("record") if isinstance(posts, list) and posts else None
        if not isinstance(record, dict):
            raise Refused(f"the AppView has no post {uri}")
        author = posts[0].get("author", {}) if isinstance(posts, list) else {}
        if isinstance(author, dict) and isinstance(author.get("did"), str):
            self.handles.setdefault(author["did"], str(author.get("handle") or author["did"]))
        return record

    async def resolve(self, accounts: list[str]) -> list[str]:
        """DIDs of the accounts (handles looked up once a day, cached in Redis); unknown ones left out."""
        dids = []
        for account in accounts:
            did = account if account.startswith("did:") else await self._did(account)
            if did is not None:
                self.handles[did] = account
                dids.append(did)
        return sorted(set(dids))

    async def _did(self, handle: str) -> str | None:
        cached = await self.redis.hget(self.keys.bsky_dids(), handle)
        if cached:
            return str(cached)
        try:
            found = await self._xrpc("com.atproto.identity.resolveHandle", {"handle": handle})
        except Refused:
            if handle not in self.unknown:
                log.error("Bluesky has no account %s (check rules.yaml account_groups)", handle)
            self.unknown.add(handle)
            return None
        did = found.get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise ValueError(f"resolveHandle answered no DID for {handle}")
        self.unknown.discard(handle)
        await self.redis.hset(self.keys.bsky_dids(), handle, did)
        await self.redis.expire(self.keys.bsky_dids(), BSKY_DID_TTL_SECONDS)
        return did


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
