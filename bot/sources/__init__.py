"""Where posts come from. Every source has the same small interface and knows nothing of rules or
Telegram: it is given the accounts to watch and a function to hand each `Post` to."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.posts import Post

Emit = Callable[[Post], Awaitable[object]]


@dataclass(frozen=True)
class SourceState:
    """What /healthz, /status and the logs say about a source."""

    name: str
    healthy: bool
    detail: str  # one line: "connected; 120 posts, 2 reconnects" or "down: X unreachable (...)"
    # Run by another process (it holds the source's lease): healthy here, and this process's
    # notices say nothing of it; the holder reports its state.
    standby: bool = False

    def line(self) -> str:
        return f"{self.name}: {self.detail}"


class Source(Protocol):
    """A source runs in a task of its own from `start` until `stop`, keeping its own schedule.

    `start` returns at once: a source that cannot reach its network reports it in `state()` and
    retries with back-off by itself, so the rest of the bot keeps working meanwhile.
    """

    name: str

    async def start(self, emit: Emit) -> None: ...

    async def watch(self, accounts: list[str]) -> None:
        """The accounts to watch changed (rules.yaml was reloaded)."""
        ...

    async def stop(self) -> None: ...

    def state(self) -> SourceState: ...


async def end_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a source's own task and wait until it has ended (its failure, if any, is its state's)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
