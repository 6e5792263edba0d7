"""Where an alert leaves: the outbox stream is read through a consumer group and fanned out to targets.

An entry is acknowledged only after every target accepted it. Each (entry, target) delivery is
marked 'sending' before and 'sent' after, so an entry read twice (a reclaim after a crash, two
dispatchers) is never delivered twice. What a crash in the middle means depends on the target:
- an *instant* target (the console, a JSON lines stream) writes without waiting on I/O, so a crash
  with the mark still 'sending' almost surely came after the write (during the Redis round trip of
  the 'sent' mark): the delivery counts as done and is not repeated;
- a remote target (Telegram) may have been cut off mid-request: its 'sending' mark expires and the
  entry is delivered again (at least once: losing an alert is worse than repeating one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from typing import Any, Protocol, TextIO

import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.exceptions import ResponseError

from bot.outbox.alert import Alert
from bot.outbox.text import plain_text
from bot.store.keys import DELIVERED_TTL_SECONDS, DELIVERY_LOCK_SECONDS, OUTBOX_GROUP, Keys

log = logging.getLogger(__name__)


def consumer_name() -> str:
    """This process's name in the outbox consumer groups: unique per host and process."""
    return f"{socket.gethostname()}-{os.getpid()}"


class Target(Protocol):
    """Somewhere alerts go. `deliver` returns once the target accepted the alert, or raises."""

    name: str
    instant: bool  # see the module docstring

    async def deliver(self, entry_id: str, alert: Alert) -> None: ...


class ConsoleTarget:
    name = "console"
    instant = True

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    async def deliver(self, entry_id: str, alert: Alert) -> None:
        self.out.write(plain_text(alert) + "\n\n")
        self.out.flush()


class JsonLinesTarget:
    """The Alerts JSONL contract of DESIGN §4, one object per alert or update."""

    name = "jsonl"
    instant = True

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    async def deliver(self, entry_id: str, alert: Alert) -> None:
        record = {
            "kind": alert.kind,
            "event_id": alert.event_id,
            "rule": alert.rule,
            "location": alert.location,
            "geonameid": alert.geonameid,
            "country": alert.country,
            "sources": alert.sources,
            "post_ids": alert.post_ids,
            "text": plain_text(alert),
        }
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()


class Dispatcher:
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
        # sending to Telegram both receive every entry; dispatchers of one kind share the work.
        # Targets that show an event as one edited message need only the newest of queued updates.
        self.coalesce = bool(targets) and all(getattr(t, "coalesces_updates", False) for t in targets)
        self.group = group or f"{OUTBOX_GROUP}:{'+'.join(sorted(t.name for t in targets)) or 'none'}"

    async def ensure_group(self, start: str = "0") -> None:
        """Create this dispatcher's group if new, from `start`: "0" the whole outbox, "$" new entries."""
        try:
            await self.client.xgroup_create(self.keys.outbox(), self.group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def pump(self, block_ms: int = 200, count: int = 100) -> int:
        """Read and deliver new entries; returns how many were handled."""
        reply: Any = await self.client.xreadgroup(
            self.group, self.consumer, {self.keys.outbox(): ">"}, count=count, block=block_ms
        )
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
        """Acknowledge a delivered entry; the stream itself is capped by length (OUTBOX_MAXLEN)."""
        await self.client.xack(self.keys.outbox(), self.group, entry_id)

    async def _deliver_once(self, entry_id: str, alert: Alert, target: Target) -> bool:
        key = self.keys.delivery(entry_id, target.name)
        lock_ttl = DELIVERED_TTL_SECONDS if target.instant else DELIVERY_LOCK_SECONDS
        if not await self.client.set(key, f"sending:{self.consumer}", nx=True, ex=lock_ttl):
            state = await self.client.get(key)
            return bool(state == "sent" or (target.instant and state is not None))
        try:
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

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; Redis errors are logged and retried with back-off."""
        delay = 0.5
        while not stop.is_set():
            try:
                await self.pump()
                delay = 0.5
            except (OSError, ConnectionError, aioredis.RedisError) as exc:
                log.warning("dispatcher: Redis unavailable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


def _superseded_updates(entries: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """Ids of update entries followed, in the same batch, by a later update of the same event.

    An official's confirmation is never superseded: it gets a reply of its own.
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
        return Alert.from_stream(fields).is_confirmation
    except ValidationError:
        return False
