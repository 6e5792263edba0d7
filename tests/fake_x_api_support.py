"""What the test_fake_x_api_* modules share: the users, a manual clock, a streaming client that records
tweepy's callbacks, the fake and client fixtures, and a guard that keeps every test on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from tests.fakes.x_api import FakeX, LocalAsyncClient, LocalAsyncStreamingClient, scaled_stream_backoff

ALICE = "1001"
BOB = "1002"
CAROL = "1003"
STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ManualClock:
    """Epoch seconds the test moves, so 15-minute rate-limit windows pass instantly."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class StreamRecorder(LocalAsyncStreamingClient):
    """A streaming client that records what tweepy's callbacks report."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responses: list[Any] = []
        self.raw: list[bytes] = []
        self.connects = 0
        self.keep_alives = 0
        self.connection_errors = 0
        self.request_errors: list[int] = []
        self.exceptions: list[Exception] = []

    async def on_connect(self) -> None:
        self.connects += 1

    async def on_data(self, raw_data: bytes) -> None:
        self.raw.append(raw_data)
        await super().on_data(raw_data)

    async def on_response(self, response: Any) -> None:
        self.responses.append(response)

    async def on_keep_alive(self) -> None:
        self.keep_alives += 1

    async def on_connection_error(self) -> None:
        self.connection_errors += 1

    async def on_request_error(self, status_code: int) -> None:
        self.request_errors.append(status_code)

    async def on_exception(self, exception: Exception) -> None:
        self.exceptions.append(exception)


async def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name lookup or a connection for anything but loopback fails the test instead of leaving.

    aiohttp resolves names with loop.getaddrinfo and connects sockets with loop.sock_connect
    (through aiohappyeyeballs): both are guarded.
    """
    resolve = asyncio.base_events.BaseEventLoop.getaddrinfo
    connect = asyncio.selector_events.BaseSelectorEventLoop.sock_connect

    def check(host: object) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            raise AssertionError(f"a test tried to reach {name}")

    async def getaddrinfo(self: asyncio.AbstractEventLoop, host: Any, *args: Any, **kwargs: Any) -> Any:
        check(host)
        return await resolve(self, host, *args, **kwargs)  # type: ignore[arg-type]

    async def sock_connect(self: asyncio.AbstractEventLoop, sock: Any, address: Any) -> None:
        check(address[0])
        await connect(self, sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(asyncio.selector_events.BaseSelectorEventLoop, "sock_connect", sock_connect)


@pytest.fixture(name="fake")
async def fixture_fake() -> AsyncIterator[FakeX]:
    async with FakeX(keepalive_seconds=0.1) as server:
        server.add_user(ALICE, "alice", "Alice Reporter", verified=True)
        server.add_user(BOB, "bob_official", "Bob Official")
        server.add_user(CAROL, "carol")
        yield server


@pytest.fixture(name="client")
async def fixture_client(fake: FakeX) -> AsyncIterator[LocalAsyncClient]:
    async with LocalAsyncClient(fake.bearer_token, base_url=fake.url) as api:
        yield api


@pytest.fixture(name="stream")
async def fixture_stream(fake: FakeX) -> AsyncIterator[StreamRecorder]:
    async with StreamRecorder(fake.bearer_token, base_url=fake.url, stall_timeout=5.0) as recorder:
        yield recorder


@pytest.fixture(name="backoff")
def fixture_backoff() -> Iterator[list[float]]:
    """tweepy's stream back-off at 1/100 speed; the list holds the delays tweepy asked for."""
    with scaled_stream_backoff(0.01) as delays:
        yield delays


def auth(fake: FakeX) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.bearer_token}"}
