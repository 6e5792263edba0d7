"""FakeX's rate limits (X's 15-minute windows per endpoint) and the faults a test injects on the
next requests.
"""

from __future__ import annotations

from collections.abc import Mapping

from tests.fakes.x_api.core import _FakeXCore
from tests.fakes.x_api.errors import _problem, _XError
from tests.fakes.x_api.records import XRequest, _Bucket, _Call, _Fault
from tests.fakes.x_api.spec import (
    DEFAULT_RATE_LIMITS,
    RATE_WINDOW_SECONDS,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
    JsonDict,
)


class _FakeXLimits(_FakeXCore):
    """Injected faults, rate-limit windows and the request log a test reads."""

    # --- faults and limits --------------------------------------------------------------------

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        count: int = 1,
        headers: Mapping[str, str] | None = None,
        body: JsonDict | None = None,
        *,
        method: str | None = None,
        exact: bool = False,
    ) -> None:
        """The next `count` authorised requests whose path starts with `path_prefix` get `status`.

        "/2/tweets/search/stream" also prefixes ".../stream/rules": pass exact=True for the stream
        alone. The body defaults to X's JSON for the status (401 and 429 verbatim); a 429 carries
        x-rate-limit-* headers with a reset one second ahead unless `headers` says otherwise.
        """
        self._faults.append(
            _Fault(path_prefix, exact, method, status, dict(headers or {}), body, remaining=count)
        )

    def stop_failing(self) -> None:
        """Lift every fault `fail_next` set that has not run out: the next requests are answered."""
        self._faults.clear()

    def set_rate_limit(
        self, endpoint: str, limit: int | None, window_seconds: float = RATE_WINDOW_SECONDS
    ) -> None:
        """Requests allowed per window for an endpoint (USER_TWEETS, STREAM, ...); None: unlimited."""
        if endpoint not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(DEFAULT_RATE_LIMITS)}")
        self._limits[endpoint] = limit
        self._windows[endpoint] = window_seconds
        self._buckets.pop(endpoint, None)

    def calls(self, path_prefix: str, method: str | None = None) -> list[XRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    def _fault_for(self, call: _Call) -> _XError | None:
        request = call.request
        fault = next((f for f in self._faults if f.applies(request.method, request.path)), None)
        if fault is None:
            return None
        fault.remaining -= 1
        headers = dict(fault.headers)
        if fault.status == 429:
            limit = self._limits.get(call.endpoint) or 0
            defaults = {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(self._clock()) + 1),
            }
            headers = {**defaults, **headers}
        default_body = {401: UNAUTHORIZED, 429: TOO_MANY_REQUESTS}.get(fault.status) or _problem(fault.status)
        return _XError(fault.status, fault.body if fault.body is not None else dict(default_body), headers)

    def _take_rate_limit(self, call: _Call) -> None:
        limit = self._limits.get(call.endpoint)
        if limit is None:
            return
        bucket = self._buckets.get(call.endpoint)
        if bucket is None:
            bucket = self._buckets[call.endpoint] = _Bucket(limit, self._windows[call.endpoint])
        allowed, headers = bucket.take(self._clock())
        call.headers.update(headers)
        if not allowed:
            raise _XError(429, dict(TOO_MANY_REQUESTS))
