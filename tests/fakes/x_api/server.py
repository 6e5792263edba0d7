"""FakeX itself: its settings, its lifecycle, and the HTTP entry point every request goes through
(auth, faults, rate limits, parameters, then the endpoint's handler).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from tests.fakes.x_api.clients import TweepyClients, tweepy_clients_for
from tests.fakes.x_api.errors import _XError
from tests.fakes.x_api.limits import _FakeXLimits
from tests.fakes.x_api.lookups import _FakeXLookups
from tests.fakes.x_api.params import _check_params
from tests.fakes.x_api.records import (
    Handler,
    XRequest,
    _Bucket,
    _Call,
    _dumps,
    _Fault,
    _Rule,
    _Signal,
    _StreamConn,
)
from tests.fakes.x_api.spec import (
    _ROUTES,
    BEARER_TOKEN,
    DEFAULT_KEEPALIVE_SECONDS,
    DEFAULT_MAX_RULE_LENGTH,
    DEFAULT_MAX_RULES,
    DEFAULT_RATE_LIMITS,
    GET_RULES,
    PAGE_NOT_FOUND,
    POST_RULES,
    RATE_WINDOW_SECONDS,
    STREAM,
    UNAUTHORIZED,
    USER_BY_ID,
    USER_BY_USERNAME,
    USER_TWEETS,
    USERS_BY_IDS,
    USERS_BY_USERNAMES,
    JsonDict,
)
from tests.fakes.x_api.stream_rules import _FakeXRules

# --- the server --------------------------------------------------------------------------------


class FakeX(_FakeXLookups, _FakeXRules, _FakeXLimits):
    """X API v2 on 127.0.0.1: users, timelines, filtered-stream rules and stream, limits and faults.

    `keepalive_seconds` is the stream's keep-alive period (X: 20 s). `rate_limits` overrides
    DEFAULT_RATE_LIMITS per endpoint (None: unlimited). `clock` gives epoch seconds for rate-limit
    windows, default created_at values and snowflake ids.
    """

    name = "FakeX"

    def __init__(
        self,
        *,
        bearer_token: str = BEARER_TOKEN,
        keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS,
        max_rules: int = DEFAULT_MAX_RULES,
        max_rule_length: int = DEFAULT_MAX_RULE_LENGTH,
        rate_limits: Mapping[str, int | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.bearer_token = bearer_token
        self.keepalive_seconds = keepalive_seconds
        self.max_rules = max_rules
        self.max_rule_length = max_rule_length
        self.requests: list[XRequest] = []
        self.stream_connections = 0
        # Every stream message the fake wrote (or queued) to a connection, and every matching post no
        # connection received (none open, or the open one stalled), in order.
        self.stream_sent: list[JsonDict] = []
        self.undelivered: list[JsonDict] = []
        self._clock = clock
        unknown = set(rate_limits or {}) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ValueError(f"unknown endpoints {sorted(unknown)}; known: {sorted(DEFAULT_RATE_LIMITS)}")
        self._limits: dict[str, int | None] = {**DEFAULT_RATE_LIMITS, **(rate_limits or {})}
        self._windows: dict[str, float] = dict.fromkeys(self._limits, float(RATE_WINDOW_SECONDS))
        self._buckets: dict[str, _Bucket] = {}
        self._users: dict[str, JsonDict] = {}
        self._tweets: dict[str, JsonDict] = {}
        self._timelines: dict[str, list[str]] = {}
        self._rules: list[_Rule] = []
        self._faults: list[_Fault] = []
        self._last_id = 0
        self._conn: _StreamConn | None = None
        self._stream_event = asyncio.Event()
        self._handlers: dict[str, Handler] = {
            USER_TWEETS: self._user_tweets,
            USER_BY_USERNAME: self._user_by_username,
            USERS_BY_USERNAMES: self._users_by_usernames,
            USER_BY_ID: self._user_by_id,
            USERS_BY_IDS: self._users_by_ids,
            STREAM: self._stream,
            GET_RULES: self._get_rules,
            POST_RULES: self._post_rules,
        }

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        # A fresh event: an asyncio.Event belongs to the loop that first waited on it.
        self._stream_event = asyncio.Event()

    async def stop(self) -> None:
        if self._conn is not None:
            self._conn.queue.put_nowait(_Signal.CLOSE)
        await super().stop()

    def clients(self, **stream_kwargs: Any) -> TweepyClients:
        """A LocalAsyncClient and a LocalAsyncStreamingClient for this server and its token."""
        return tweepy_clients_for(self.url, self.bearer_token, **stream_kwargs)

    # --- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        record = XRequest(request.method, request.path, dict(request.query), body, self._clock())
        self.requests.append(record)
        route = next(
            (
                (endpoint, m)
                for method, pattern, endpoint in _ROUTES
                if method == request.method and (m := pattern.fullmatch(request.path))
            ),
            None,
        )
        if route is None:
            record.status = 404
            return web.json_response(PAGE_NOT_FOUND, status=404)
        endpoint, match = route
        record.endpoint = endpoint
        call = _Call(request, record, endpoint, match.groupdict(), dict(request.query), body)
        try:
            if request.headers.get("Authorization") != f"Bearer {self.bearer_token}":
                raise _XError(401, dict(UNAUTHORIZED))
            fault = self._fault_for(call)
            if fault is not None:
                raise fault
            self._take_rate_limit(call)
            _check_params(endpoint, call.query)
            response = await self._handlers[endpoint](call)
        except _XError as err:
            record.status = err.status
            return web.json_response(
                err.body, status=err.status, headers={**call.headers, **err.headers}, dumps=_dumps
            )
        record.status = response.status
        return response
