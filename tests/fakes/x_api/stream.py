"""FakeX's filtered stream: matching posts pushed to the one open connection, keep-alives, and the
faults a test injects (drop, stall, raw lines).
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from tests.fakes.x_api.core import _FakeXCore
from tests.fakes.x_api.errors import _bad_param, _XError
from tests.fakes.x_api.params import _FULL_SHAPE, _Shape, _shape
from tests.fakes.x_api.records import _Call, _dumps, _Rule, _Signal, _StreamConn
from tests.fakes.x_api.spec import NO_RULES, TOO_MANY_CONNECTIONS, TWEET_EXPANSIONS, JsonDict


class _FakeXStream(_FakeXCore):
    """The stream a test drives (wait, drop, stall, raw lines) and the GET /2/tweets/search/stream handler."""

    # --- the stream ---------------------------------------------------------------------------

    @property
    def stream_open(self) -> bool:
        return self._conn is not None and self._conn.alive()

    async def wait_for_stream(self, connections: int = 1, timeout: float = 5.0) -> None:
        """Until a stream connection is open and at least `connections` have been accepted in all."""
        async with asyncio.timeout(timeout):
            while not (self.stream_open and self.stream_connections >= connections):
                await self._stream_event.wait()

    def drop_stream(self, partial_line: str = "") -> None:
        """Cut the open stream connection mid-stream (no end chunk), after writing `partial_line` if any."""
        conn = self._open_conn()
        if partial_line:
            conn.queue.put_nowait(partial_line.encode())
        conn.queue.put_nowait(_Signal.DROP)
        conn.ending = True

    def stall_stream(self) -> None:
        """The open connection stays open but gets nothing more: no posts, no keep-alives.

        Only this connection: the next one the client opens works normally. Posts matched while it is
        stalled go to `undelivered`.
        """
        self._open_conn().stalled = True

    def send_raw(self, line: str) -> None:
        """Write one raw line (a "\\r\\n" is added) on the open stream: malformed JSON, missing fields..."""
        self._open_conn().queue.put_nowait(line.encode() + b"\r\n")

    def _open_conn(self) -> _StreamConn:
        conn = self._conn
        if conn is None or not conn.alive():
            raise RuntimeError("no stream connection is open")
        return conn

    def _signal_stream(self) -> None:
        self._stream_event.set()
        self._stream_event = asyncio.Event()

    def _push(self, tweet: JsonDict) -> None:
        view = self._view(tweet)
        matched = [rule for rule in self._rules if rule.expr.test(view)]
        if not matched:
            return
        conn = self._conn
        if conn is None or not conn.alive() or conn.stalled:
            self.undelivered.append(self._stream_message(tweet, matched, _FULL_SHAPE))
            return
        message = self._stream_message(tweet, matched, conn.shape)
        conn.queue.put_nowait(_dumps(message).encode() + b"\r\n")
        self.stream_sent.append(message)

    def _stream_message(self, tweet: JsonDict, matched: list[_Rule], shape: _Shape) -> JsonDict:
        message: JsonDict = {"data": self._tweet_json(tweet, shape)}
        includes = self._includes([tweet], shape)
        if includes:
            message["includes"] = includes
        # X sends "tag" for every matching rule, "" when it has none (tweepy reads rule["tag"]).
        message["matching_rules"] = [{"id": rule.id, "tag": rule.tag or ""} for rule in matched]
        return message

    # --- the filtered stream ------------------------------------------------------------------

    async def _stream(self, call: _Call) -> web.StreamResponse:
        current = self._conn
        if current is not None and current.alive():
            # A client that timed out and reconnected at once may be faster than its old socket's
            # close reaches this server over loopback: give the old connection a moment to go.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.25):
                    while current.alive():
                        await asyncio.sleep(0.005)
            if current.alive():
                raise _XError(429, dict(TOO_MANY_CONNECTIONS))
        if not self._rules:
            raise _XError(409, dict(NO_RULES))
        shape = _shape(call.query, TWEET_EXPANSIONS)
        backfill = call.query.get("backfill_minutes")
        if backfill is not None and not (backfill.isdigit() and 0 <= int(backfill) <= 5):
            raise _bad_param(
                "backfill_minutes",
                backfill,
                f"The `backfill_minutes` query parameter value [{backfill}] is not between 0 and 5",
            )
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "application/json; charset=utf-8", **call.headers}
        )
        response.enable_chunked_encoding()
        await response.prepare(call.request)
        call.record.status = 200
        self.stream_connections += 1
        conn = _StreamConn(call.request, shape, self.stream_connections)
        self._conn = conn
        self._signal_stream()
        try:
            await self._pump(conn, response)
        finally:
            conn.open = False
            if self._conn is conn:
                self._conn = None
            self._signal_stream()
        return response

    async def _pump(self, conn: _StreamConn, response: web.StreamResponse) -> None:
        while True:
            try:
                item: bytes | _Signal = await asyncio.wait_for(conn.queue.get(), self.keepalive_seconds)
            except TimeoutError:
                item = b"\r\n"
            if item is _Signal.CLOSE:
                return
            if item is _Signal.DROP:
                # No terminating chunk: the client sees the body end mid-stream, as when X drops it.
                transport = conn.request.transport
                if transport is not None:
                    transport.close()
                raise asyncio.CancelledError
            if conn.stalled or not isinstance(item, bytes):
                continue
            try:
                await response.write(item)
            except (ConnectionError, aiohttp.ClientConnectionResetError):
                return
