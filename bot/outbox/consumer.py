"""Where an alert leaves: the outbox stream is read through a consumer group and fanned out to targets.

An entry is acknowledged only after every target accepted it. Each (entry, target) delivery is
marked 'sending' before and 'sent' after, so an entry read twice (a reclaim after a crash, two
consumers) is not delivered twice while its first delivery is alive. A 'sending' mark is never read
as 'sent': when its holder dies the mark expires and the entry is delivered again (at least once:
losing an alert is worse than repeating one). While the holder works, the mark is kept alive.

The stream is trimmed only below the oldest entry some group has not acknowledged: undelivered
work is never discarded, whatever the backlog.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.exceptions import ResponseError

from bot.backoff import retrying
from bot.outbox.alert import Alert
from bot.outbox.marks import kept_alive
from bot.outbox.targets import Target
from bot.store.keys import DELIVERED_TTL_SECONDS, DELIVERY_LOCK_SECONDS, OUTBOX_GROUP, Keys

log = logging.getLogger(__name__)

# Redis down while delivering: retried with back-off up to this wait between tries.
REDIS_RETRY_MAX_SECONDS = 10.0


def consumer_name() -> str:
    """This process's name in the outbox consumer groups: unique per host and process."""
    return f"{socket.gethostname()}-{os.getpid()}"


class OutboxConsumer:
    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        targets: list[Target],
        consumer: str,
        on_delivered: Callable[[Alert], None] | None = None,
        group: str | None = None,
    ) -> None:
        self.client = client
        self.keys = keys
        self.targets = targets
        self.consumer = consumer
        self.on_delivered = on_delivered
        self.delivered = 0
        self.failed = 0
        # One consumer group per kind of delivery: a replay printing to its console and a bot
        # sending to Telegram both receive every entry; consumers of one kind share the work.
        # Targets that show an event as one edited message need only the newest of queued updates.
        self.coalesce = bool(targets) and all(getattr(t, "coalesces_updates", False) for t in targets)
        self.group = group or f"{OUTBOX_GROUP}:{'+'.join(sorted(t.name for t in targets)) or 'none'}"

    async def ensure_group(self, start: str = "0") -> None:
        """Create this consumer's group if new, from `start`: "0" the whole outbox, "$" new entries."""
        try:
            await self.client.xgroup_create(self.keys.outbox(), self.group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def pump(self, block_ms: int = 200, count: int = 100) -> int:
        """Read and deliver new entries; returns how many were handled."""
        try:
            reply: Any = await self.client.xreadgroup(
                self.group, self.consumer, {self.keys.outbox(): ">"}, count=count, block=block_ms
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis came back without its data (restarted with no persistence): whatever the outbox
            # holds now was queued since, and is delivered from its start.
            log.warning("the outbox's consumer group is gone (Redis lost its data?); created again")
            await self.ensure_group(start="0")
            return 0
        entries = [entry for _stream, batch in reply or [] for entry in batch]
        superseded = _superseded_updates(entries) if self.coalesce else set()
        for entry_id, fields in entries:
            if entry_id in superseded:
                await self._finish(entry_id)  # a later update of the same event in this batch says more
            else:
                await self.handle(entry_id, fields)
        return len(entries)

    async def reclaim(self, min_idle_ms: int) -> int:
        """Take over entries another consumer read but never acknowledged (it died), and deliver them."""
        handled = 0
        start = "0-0"
        while True:
            reply: list[Any] = await self.client.xautoclaim(
                self.keys.outbox(),
                self.group,
                self.consumer,
                min_idle_time=min_idle_ms,
                start_id=start,
                count=100,
            )
            start, entries = str(reply[0]), list(reply[1])
            for entry_id, fields in entries:
                if fields is not None:
                    await self.handle(entry_id, fields)
                    handled += 1
            if start == "0-0" or not entries:
                return handled

    async def handle(self, entry_id: str, fields: dict[str, Any]) -> bool:
        """Deliver one entry to every target; acknowledge it when all accepted. True when acknowledged."""
        try:
            alert = Alert.from_stream(fields)
        except ValidationError as exc:
            log.error("outbox entry %s is malformed and is dropped: %s", entry_id, exc.errors()[0]["msg"])
            await self._finish(entry_id)
            return True
        done = [await self._deliver_once(entry_id, alert, target) for target in self.targets]
        if all(done):
            await self._finish(entry_id)
            if self.on_delivered:
                self.on_delivered(alert)
            return True
        return False

    async def _finish(self, entry_id: str) -> None:
        await self.client.xack(self.keys.outbox(), self.group, entry_id)

    async def _deliver_once(self, entry_id: str, alert: Alert, target: Target) -> bool:
        key = self.keys.delivery(entry_id, target.name)
        if not await self.client.set(key, f"sending:{self.consumer}", nx=True, ex=DELIVERY_LOCK_SECONDS):
            return bool(await self.client.get(key) == "sent")  # another consumer's delivery is alive

        async def still_mine() -> None:  # resets the entry's idle time, so no one reclaims it
            await self.client.xclaim(
                self.keys.outbox(), self.group, self.consumer, 0, [entry_id], justid=True
            )

        try:
            async with kept_alive(self.client, key, DELIVERY_LOCK_SECONDS, still_mine):
                await target.deliver(entry_id, alert)
        except Exception as exc:  # a target's failure must not stop the others or the loop
            await self.client.delete(key)
            self.failed += 1
            log.warning(
                "delivery of %s (%s) to %s failed, will retry: %s", entry_id, alert.event_id, target.name, exc
            )
            return False
        await self.client.set(key, "sent", ex=DELIVERED_TTL_SECONDS)
        self.delivered += 1
        log.info("delivered %s %s (%s) to %s", alert.kind, alert.event_id, entry_id, target.name)
        return True

    async def drained(self) -> bool:
        """True when every entry in the outbox has been read by the group and acknowledged."""
        stream = self.keys.outbox()
        info = await self.client.xinfo_stream(stream)
        groups = {g["name"]: g for g in await self.client.xinfo_groups(stream)}
        group = groups.get(self.group)
        if group is None:
            return bool(info["length"] == 0)
        return bool(group["pending"] == 0 and group["last-delivered-id"] == info["last-generated-id"])

    async def trim_delivered(self) -> int:
        """Delete entries every group has acknowledged; returns how many went. Nothing unacknowledged goes."""
        stream = self.keys.outbox()
        try:
            groups = await self.client.xinfo_groups(stream)
        except ResponseError:  # no stream yet
            return 0
        if not groups:
            return 0
        floors = [await self._group_floor(stream, g) for g in groups]
        removed = await self.client.xtrim(stream, minid=min(floors, key=_id_order), approximate=False)
        return int(removed)

    async def _group_floor(self, stream: str, group: dict[str, Any]) -> str:
        """The oldest id this group still needs: its oldest pending entry, else the next unread."""
        if group["pending"]:
            summary: Any = await self.client.xpending(stream, group["name"])
            return str(summary["min"])
        ms, seq = (int(part) for part in str(group["last-delivered-id"]).split("-"))
        return f"{ms}-{seq + 1}"

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a Redis outage is waited out with back-off (a stop ends the wait)."""
        redis_down = (OSError, ConnectionError, aioredis.RedisError)
        while not stop.is_set():
            try:
                async for attempt in retrying(
                    lambda e: not stop.is_set() and isinstance(e, redis_down),
                    "outbox read",
                    maximum=REDIS_RETRY_MAX_SECONDS,
                ):
                    with attempt:
                        await self.pump()
            except redis_down as exc:
                if not stop.is_set():
                    raise
                log.warning("stopping while Redis is unreachable (%s); undelivered alerts stay queued", exc)


def _id_order(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def _superseded_updates(entries: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """Ids of update entries followed, in the same batch, by a later update of the same event.

    A confirmation or a denial is never superseded: it gets a reply of its own.
    """
    newest: dict[str, str] = {}
    updates: list[tuple[str, str]] = []
    for entry_id, fields in entries:
        if fields.get("kind") == "update":
            newest[fields.get("event_id", "")] = entry_id
            updates.append((entry_id, fields.get("event_id", "")))
    superseded = {entry_id for entry_id, event in updates if newest[event] != entry_id}
    kept_for_confirmation = {
        entry_id for entry_id, fields in entries if entry_id in superseded and _confirms(fields)
    }
    return superseded - kept_for_confirmation


def _confirms(fields: dict[str, Any]) -> bool:
    try:
        alert = Alert.from_stream(fields)
        return alert.is_confirmation or alert.is_contest
    except ValidationError:
        return False
