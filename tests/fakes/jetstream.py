"""A fake Bluesky for tests: Jetstream instances (JSON events over a websocket) and the AppView's XRPC API.

    network = BlueskyNetwork()
    did = network.add_account("bilal.bsky.social")
    async with FakeJetstream(network) as stream, FakeAppView(network) as appview:
        network.post(did, "Mazar-i-Sharif has fallen", langs=["en"])

What it imitates, after Bluesky's Jetstream (github.com/bluesky-social/jetstream, README and
pkg/models): `GET /subscribe` upgraded to a websocket; `wantedCollections`, `wantedDids` (repeated
query parameters; none means everything), `cursor` (unix microseconds: events from then on are replayed
before the live tail), `requireHello=true` (nothing is sent until the client's first `options_update`,
which sets the filters, as do later ones); events `{"did", "time_us", "kind": "commit", "commit":
{"rev", "operation", "collection", "rkey", "record", "cid"}}` and `kind: "identity"`. Each instance
stamps `time_us` with its own clock (`skew_us`), as independent instances do. Faults: every open
connection dropped without a close frame, a raw text frame, an instance stopped.

The AppView serves `com.atproto.identity.resolveHandle` (400 InvalidRequest "Unable to resolve handle"
for an unknown one) and `app.bsky.feed.getPosts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.loopback import LoopbackServer

JsonDict = dict[str, Any]
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"


@dataclass
class Commit:
    did: str
    collection: str
    rkey: str
    record: JsonDict
    at_us: int  # when the network saw it

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


class BlueskyNetwork:
    """Accounts and their records; every Jetstream instance and the AppView read from here."""

    def __init__(self) -> None:
        self.handles: dict[str, str] = {}  # handle -> DID
        self.commits: list[Commit] = []
        self.listeners: list[FakeJetstream] = []
        self._last_us = 0
        self._rkey = 0

    def add_account(self, handle: str) -> str:
        did = "did:plc:" + f"{len(self.handles) + 1:024d}".translate(
            str.maketrans("0123456789", "abcdefgh23")
        )
        self.handles[handle] = did
        return did

    def _now_us(self) -> int:
        self._last_us = max(self._last_us + 1, int(time.time() * 1_000_000))
        return self._last_us

    def _commit(self, did: str, collection: str, record: JsonDict) -> Commit:
        self._rkey += 1
        commit = Commit(did, collection, f"3l{self._rkey:011d}", record, self._now_us())
        self.commits.append(commit)
        for instance in self.listeners:
            instance.publish(commit)
        return commit

    def post(self, did: str, text: str, langs: list[str] | None = None, created_at: str | None = None) -> str:
        record: JsonDict = {
            "$type": POST,
            "text": text,
            "createdAt": created_at or datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        if langs:
            record["langs"] = langs
        return self._commit(did, POST, record).uri

    def repost(self, did: str, uri: str) -> str:
        subject = {"uri": uri, "cid": "bafyreifake"}
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return self._commit(did, REPOST, {"$type": REPOST, "subject": subject, "createdAt": created}).uri

    def record(self, uri: str) -> Commit | None:
        return next((c for c in self.commits if c.uri == uri), None)


@dataclass
class _Subscriber:
    ws: web.WebSocketResponse
    collections: set[str]
    dids: set[str]
    hello: bool  # requireHello: waiting for the first options_update
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def wants(self, commit: Commit) -> bool:
        return (not self.collections or commit.collection in self.collections) and (
            not self.dids or commit.did in self.dids
        )


class FakeJetstream(LoopbackServer):
    name = "fake Jetstream"

    def __init__(self, network: BlueskyNetwork, skew_us: int = 0) -> None:
        super().__init__()
        self.network = network
        self.skew_us = skew_us
        self.subscribers: list[_Subscriber] = []
        self.connections: list[JsonDict] = []  # what each connection asked for (query, then options)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/subscribe"

    async def start(self) -> None:
        await super().start()
        self.network.listeners.append(self)

    async def stop(self) -> None:
        if self in self.network.listeners:
            self.network.listeners.remove(self)
        self.drop_connections()
        await super().stop()

    def event(self, commit: Commit) -> str:
        return json.dumps(
            {
                "did": commit.did,
                "time_us": commit.at_us + self.skew_us,
                "kind": "commit",
                "commit": {
                    "rev": commit.rkey,
                    "operation": "create",
                    "collection": commit.collection,
                    "rkey": commit.rkey,
                    "record": commit.record,
                    "cid": "bafyreifake" + commit.rkey,
                },
            }
        )

    def publish(self, commit: Commit) -> None:
        for sub in self.subscribers:
            if not sub.hello and sub.wants(commit):
                sub.queue.put_nowait(self.event(commit))

    def send_raw(self, text: str) -> None:
        for sub in self.subscribers:
            sub.queue.put_nowait(text)

    def drop_connections(self) -> None:
        """Close every socket without a close frame, as when an instance restarts or the network fails."""
        for sub in self.subscribers:
            sub.queue.put_nowait(None)

    async def wait_for_subscriber(self, connections: int = 1, timeout: float = 20.0) -> None:
        """Until `connections` connections were made and one has sent its options (is receiving)."""
        async with asyncio.timeout(timeout):
            while len(self.connections) < connections or not any(not s.hello for s in self.subscribers):
                await asyncio.sleep(0.02)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path != "/subscribe":  # the one route of a Jetstream instance
            return web.Response(status=404, text="not found")
        query = request.query
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        sub = _Subscriber(
            ws,
            set(query.getall("wantedCollections", [])),
            set(query.getall("wantedDids", [])),
            query.get("requireHello") == "true",
        )
        asked: JsonDict = {"query": dict(query), "options": None}
        self.connections.append(asked)
        cursor = query.get("cursor")
        self.subscribers.append(sub)
        reader = asyncio.create_task(self._read_options(sub, asked, cursor))
        try:
            if not sub.hello:
                self._replay(sub, cursor)
            while (item := await sub.queue.get()) is not None:
                await ws.send_str(item)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self.subscribers.remove(sub)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            if request.transport is not None:
                request.transport.close()  # dropped, not closed: no close frame
        return ws

    def _replay(self, sub: _Subscriber, cursor: str | None) -> None:
        if cursor is None or not cursor.isdigit():
            return
        for commit in self.network.commits:
            if commit.at_us + self.skew_us >= int(cursor) and sub.wants(commit):
                sub.queue.put_nowait(self.event(commit))

    async def _read_options(self, sub: _Subscriber, asked: JsonDict, cursor: str | None) -> None:
        async for message in sub.ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                update = json.loads(message.data)
                payload = update["payload"] if update.get("type") == "options_update" else None
            except (ValueError, KeyError, AttributeError):
                payload = None
            if not isinstance(payload, dict):
                continue
            asked["options"] = payload
            sub.collections = set(payload.get("wantedCollections") or [])
            sub.dids = set(payload.get("wantedDids") or [])
            if sub.hello:
                sub.hello = False
                self._replay(sub, cursor)


class FakeAppView(LoopbackServer):
    name = "fake Bluesky AppView"

    def __init__(self, network: BlueskyNetwork) -> None:
        super().__init__()
        self.network = network
        self.calls: list[str] = []

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.path.removeprefix("/xrpc/")
        self.calls.append(method)
        if method == "com.atproto.identity.resolveHandle":
            did = self.network.handles.get(request.query.get("handle", "").lower())
            if did is None:
                return web.json_response(
                    {"error": "InvalidRequest", "message": "Unable to resolve handle"}, status=400
                )
            return web.json_response({"did": did})
        if method == "app.bsky.feed.getPosts":
            views = [self._view(uri) for uri in request.query.getall("uris", [])]
            return web.json_response({"posts": [v for v in views if v]})  # unknown posts are left out
        return web.json_response(
            {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, status=501
        )

    def _view(self, uri: str) -> JsonDict:
        commit = self.network.record(uri)
        if commit is None:
            return {}
        handle = next(h for h, d in self.network.handles.items() if d == commit.did)
        return {
            "uri": uri,
            "cid": "bafyreifake" + commit.rkey,
            "author": {"did": commit.did, "handle": handle},
            "record": commit.record,
            "indexedAt": commit.record["createdAt"],
        }
