"""tweepy's async clients redirected to the fake: X's origin swapped for 127.0.0.1, nothing else,
and tweepy's stream back-off run faster.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, NamedTuple, Self

import aiohttp
import tweepy.asynchronous.streaming as tweepy_streaming
from tweepy.asynchronous import AsyncClient, AsyncStreamingClient
from yarl import URL

from tests.fakes.x_api.spec import X_API_HOSTS

# --- redirecting tweepy to the fake ------------------------------------------------------------


def redirect_url(url: URL, base: URL) -> URL:
    """`url` with X's origin replaced by `base`'s; a URL for any other host is refused (ValueError).

    Refusing instead of passing through is what keeps a test from ever reaching the network, whatever
    URL some tweepy method builds.
    """
    if url.host in X_API_HOSTS:
        return URL.build(
            scheme=base.scheme,
            host=base.raw_host or "",
            port=base.port,
            path=url.raw_path,
            query_string=url.raw_query_string,
            encoded=True,
        )
    if url.origin() == base.origin():
        return url
    raise ValueError(f"refusing to send a request to {url.origin()}: this client only talks to {base}")


def _redirecting_request_class(base: URL) -> type[aiohttp.ClientRequest]:
    class RedirectedRequest(aiohttp.ClientRequest):
        # aiohttp builds one ClientRequest per request (and per redirect); the URL is rewritten before
        # anything (Host header, connection key, TLS choice) is derived from it.
        def __init__(self, method: str, url: URL, *args: Any, **kwargs: Any) -> None:
            super().__init__(method, redirect_url(url, base), *args, **kwargs)

    return RedirectedRequest


def _origin(base_url: str) -> URL:
    base = URL(base_url)
    if not base.absolute or base.scheme not in ("http", "https") or base.path not in ("", "/"):
        raise ValueError(f"base_url must be an origin like http://127.0.0.1:8080, not {base_url!r}")
    return base.origin()


def redirected_session(base_url: str, *, read_timeout: float | None = None) -> aiohttp.ClientSession:
    """An aiohttp session whose requests to api.twitter.com / api.x.com go to `base_url` instead."""
    return aiohttp.ClientSession(
        request_class=_redirecting_request_class(_origin(base_url)),
        timeout=aiohttp.ClientTimeout(
            total=None if read_timeout is not None else 300, sock_read=read_timeout
        ),
    )


class LocalAsyncClient(AsyncClient):  # type: ignore[misc]  # tweepy ships no type information
    """tweepy's AsyncClient with every request sent to `base_url` (X's origin swapped, nothing else).

    tweepy builds "https://api.twitter.com" + route inside `request()`, next to its error handling, and
    sends it with `self.session` when one is set. So the only override is `request()`, which makes sure
    `self.session` is a session whose request class rewrites the origin, and then runs tweepy's own
    `request()`. Close the client (`aclose()` or `async with`) to close that session.
    """

    session: aiohttp.ClientSession | None

    def __init__(self, bearer_token: str | None = None, *, base_url: str, **kwargs: Any) -> None:
        super().__init__(bearer_token, **kwargs)
        self.base_url = base_url
        _origin(base_url)

    async def request(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        user_auth: bool = False,
    ) -> Any:
        if self.session is None or self.session.closed:
            self.session = redirected_session(self.base_url)
        return await super().request(method, route, params, json, user_auth)

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class LocalAsyncStreamingClient(AsyncStreamingClient):  # type: ignore[misc]  # tweepy ships no types
    """tweepy's AsyncStreamingClient with the stream and the rules requests sent to `base_url`.

    tweepy keeps ONE `self.session` for both: `request()` (rules) uses it when set, and the stream loop
    (`AsyncBaseStream._connect`) adopts it when it is open, otherwise creates its own, and closes it when
    the stream ends. Both entry points are overridden only to put a redirecting session there first;
    tweepy's own code then runs as is. `stall_timeout` is the session's read timeout, which is tweepy's
    stall detection (its `timeout=21` argument, which `filter()` cannot pass).
    """

    session: aiohttp.ClientSession | None
    task: asyncio.Task[None] | None

    def __init__(
        self, bearer_token: str, *, base_url: str, stall_timeout: float = 21.0, **kwargs: Any
    ) -> None:
        super().__init__(bearer_token, **kwargs)
        self.base_url = base_url
        self.stall_timeout = stall_timeout
        _origin(base_url)

    def _ensure_session(self) -> None:
        if self.session is None or self.session.closed:
            self.session = redirected_session(self.base_url, read_timeout=self.stall_timeout)

    async def request(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        user_auth: bool = False,
    ) -> Any:
        self._ensure_session()
        return await super().request(method, route, params, json, user_auth)

    async def _connect(self, method: str, endpoint: str, **kwargs: Any) -> None:
        self._ensure_session()
        await super()._connect(method, endpoint, **kwargs)

    async def aclose(self) -> None:
        """Disconnect the stream, wait for tweepy's stream task to end, close the session."""
        self.disconnect()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class TweepyClients(NamedTuple):
    client: LocalAsyncClient
    stream: LocalAsyncStreamingClient


def tweepy_clients_for(
    base_url: str,
    bearer_token: str,
    *,
    stream_class: type[LocalAsyncStreamingClient] = LocalAsyncStreamingClient,
    **stream_kwargs: Any,
) -> TweepyClients:
    """Both tweepy clients pointed at `base_url`; `stream_class` is usually a subclass with on_response."""
    return TweepyClients(
        LocalAsyncClient(bearer_token, base_url=base_url),
        stream_class(bearer_token, base_url=base_url, **stream_kwargs),
    )


class _ScaledAsyncio:
    """Stands in for the `asyncio` module inside tweepy's streaming module: sleeps are recorded, scaled."""

    def __init__(self, factor: float, delays: list[float]) -> None:
        self._factor = factor
        self._delays = delays

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        self._delays.append(delay)
        return await asyncio.sleep(delay * self._factor, result)


@contextlib.contextmanager
def scaled_stream_backoff(factor: float = 0.01) -> Iterator[list[float]]:
    """Run tweepy's stream back-off `factor` times as fast; yields the delays tweepy asked for.

    tweepy's back-off (0 s, then +0.25 s per network error up to 16 s; 5 s doubling to 320 s per HTTP
    error; at least 60 s after a 420/429) lives in local variables of `AsyncBaseStream._connect`, with no
    parameter or hook; its only seam is the module-level name `asyncio` it calls `asyncio.sleep` on.
    """
    delays: list[float] = []
    original = tweepy_streaming.asyncio
    tweepy_streaming.asyncio = _ScaledAsyncio(factor, delays)
    try:
        yield delays
    finally:
        tweepy_streaming.asyncio = original
