"""Where alerts go besides Telegram: the terminal (plain text) and JSON lines (DESIGN §4)."""

from __future__ import annotations

import json
import sys
from typing import Protocol, TextIO

from bot.outbox.alert import Alert
from bot.outbox.text import plain_text


class Target(Protocol):
    """Somewhere alerts go. `deliver` returns once the target accepted the alert, or raises."""

    name: str

    async def deliver(self, entry_id: str, alert: Alert) -> None: ...


class ConsoleTarget:
    name = "console"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    async def deliver(self, entry_id: str, alert: Alert) -> None:
        self.out.write(plain_text(alert) + "\n\n")
        self.out.flush()


class JsonLinesTarget:
    """The Alerts JSONL contract of DESIGN §4, one object per alert or update."""

    name = "jsonl"

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
            "independent_sources": alert.independent_sources,
            "level": alert.level,
            "actor": alert.actor,
        }
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()
