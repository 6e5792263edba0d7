"""What the fake records and keeps: the requests a test reads, and the server's internal state
(rules, rate-limit windows, faults, stream connections, a request on its way).
"""

from __future__ import annotations

import asyncio
import enum
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.x_api.params import _Shape
from tests.fakes.x_api.rule_language import _Node
from tests.fakes.x_api.spec import JsonDict

# --- records a test reads ----------------------------------------------------------------------


@dataclass
class XRequest:
    """One request as the fake received it and the status it answered (200 once a stream is accepted)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float
    endpoint: str | None = None
    status: int = 0


# --- internal state ----------------------------------------------------------------------------


@dataclass
class _Rule:
    id: str
    value: str
    tag: str | None
    expr: _Node

    def json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "value": self.value}
        if self.tag is not None:
            data["tag"] = self.tag
        return data


@dataclass
class _Bucket:
    """A fixed 15-minute window per endpoint, as X counts: `limit` requests from the window's start."""

    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
        return allowed, {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - self.used),
            "x-rate-limit-reset": str(math.ceil(self.reset_at)),
        }


@dataclass
class _Fault:
    prefix: str
    exact: bool
    method: str | None
    status: int
    headers: dict[str, str]
    body: JsonDict | None
    remaining: int

    def applies(self, method: str, path: str) -> bool:
        if self.remaining <= 0 or (self.method is not None and self.method != method):
            return False
        return path == self.prefix if self.exact else path.startswith(self.prefix)


class _Signal(enum.Enum):
    CLOSE = "close"
    DROP = "drop"


@dataclass
class _StreamConn:
    request: web.Request
    shape: _Shape
    number: int
    queue: asyncio.Queue[bytes | _Signal] = field(default_factory=asyncio.Queue)
    stalled: bool = False
    # Set by drop_stream(): the connection is as good as gone, though its last bytes are still queued.
    ending: bool = False
    open: bool = True

    def alive(self) -> bool:
        transport = self.request.transport
        return self.open and not self.ending and transport is not None and not transport.is_closing()


@dataclass
class _Call:
    """One request on its way through the handlers."""

    request: web.Request
    record: XRequest
    endpoint: str
    args: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def reply(self, body: JsonDict, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, headers=self.headers, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


Handler = Callable[[_Call], Awaitable[web.StreamResponse]]
