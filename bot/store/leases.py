"""Leases: what must run in one process at a time (Telegram polling, the X stream), whoever runs it.

A lease is one Redis key holding '<holder> <fence>' with a short lifetime that its holder renews.
The fence is a number no earlier holder had (a counter increased on each taking), and renewing or
releasing compares the whole value: a holder that stalled past the lifetime (a long GC pause, a
frozen VM) and comes back finds someone else's value and learns it lost, instead of renewing the
new holder's lease. redis-py's Lock does SET NX PX with a random token but has no fence, and the
three operations are a dozen lines of Lua (lease.lua), so they are written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.store.keys import Keys

_LEASE_SCRIPT = (Path(__file__).parent / "lease.lua").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Taken:
    """The outcome of an attempt to take a lease: ours or not, and who holds it ('host-123 7')."""

    ours: bool
    value: str

    @property
    def holder(self) -> str:
        return self.value.rsplit(" ", 1)[0]

    @property
    def fence(self) -> int:
        return int(self.value.rsplit(" ", 1)[1])


class Lease:
    def __init__(self, client: aioredis.Redis, keys: Keys, role: str, holder: str, lifetime_ms: int) -> None:
        self.client = client
        self.role = role
        self.holder = holder
        self.lifetime_ms = lifetime_ms
        self._keys = [keys.lease(role), keys.lease_fence(role)]
        self._script = client.register_script(_LEASE_SCRIPT)
        self.value = ""  # ours while held: '<holder> <fence>'

    async def take(self) -> Taken:
        """Take the lease if nobody holds it; either way, say who holds it now."""
        reply: Any = await self._script(keys=self._keys, args=["acquire", self.holder, self.lifetime_ms])
        taken = Taken(bool(int(reply[0])), _text(reply[1]))
        if taken.ours:
            self.value = taken.value
        return taken

    async def renew(self) -> bool:
        """Extend our lease by its lifetime; False when it is no longer ours (expired, taken by another)."""
        if not self.value:
            return False
        reply: Any = await self._script(keys=self._keys, args=["renew", self.value, self.lifetime_ms])
        return bool(int(reply))

    async def release(self) -> None:
        """Give the lease up at once (a clean stop), so a standby process takes over without waiting."""
        if self.value:
            await self._script(keys=self._keys, args=["release", self.value])
            self.value = ""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
