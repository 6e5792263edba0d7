"""Pointing tweepy's asyncio clients at X_API_BASE while tweepy's own request code keeps running.

tweepy builds every URL as "https://api.twitter.com/..." inside its request methods. Rather than
rewriting those methods, the clients get this session: it passes each request to an aiohttp session,
with the host replaced by X_API_BASE (api.x.com, a proxy, or the tests' fake server). tweepy's
requests, parsing, errors and reconnect back-off are untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from tweepy.errors import BadRequest, Forbidden, TooManyRequests, TwitterServerError, Unauthorized

TWEEPY_HOSTS = ("https://api.twitter.com", "https://api.x.com")
# X sends a keep-alive newline every 20 seconds; a stream silent for longer than this is stalled.
STALL_SECONDS = 21.0


class RedirectingSession:
    """Enough of aiohttp.ClientSession for tweepy: `request`, `headers`, `closed`, `close`.

    Closing it only closes the current inner session; the next request opens a new one, so the
    client can reconnect (tweepy closes its session after each stream connection).
    """

    def __init__(self, base_url: str, stall_seconds: float = STALL_SECONDS) -> None:
        self.base_url = base_url.rstrip("/")
        self.stall_seconds = stall_seconds
        self._inner: aiohttp.ClientSession | None = None
        self._headers: dict[str, str] = {}

    @property
    def closed(self) -> bool:
        return False

    @property
    def headers(self) -> dict[str, str]:
        return self._headers

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self._headers, **(kwargs.pop("headers", None) or {})}
        return self._session().request(method, self.rewrite(url), headers=headers, **kwargs)

    def rewrite(self, url: str) -> str:
        for host in TWEEPY_HOSTS:
            if url.startswith(host):
                return self.base_url + url[len(host) :]
        return url

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()
            self._inner = None

    def _session(self) -> aiohttp.ClientSession:
        if self._inner is None or self._inner.closed:
            self._inner = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(enable_cleanup_closed=True),
                timeout=aiohttp.ClientTimeout(sock_read=self.stall_seconds),
            )
        return self._inner


def x_error_is_transient(error: BaseException) -> bool:
    """Worth retrying: the network, a timeout, X's 5xx or 429. A refused token or a bad request is not."""
    if isinstance(error, TooManyRequests | TwitterServerError):
        return True
    return isinstance(error, OSError | aiohttp.ClientError | asyncio.TimeoutError)


def x_refusal(error: BaseException) -> str | None:
    """The one line that says X refused us for good (a token or access level problem), else None."""
    if isinstance(error, Unauthorized | Forbidden):
        return f"X refused the bearer token (HTTP {error.response.status}); check X_BEARER_TOKEN"
    if isinstance(error, BadRequest):
        return f"X refused the request (HTTP 400): {error}"
    return None
