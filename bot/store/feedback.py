"""Admins' verdicts on alerts ("false alarm" / "correct"), kept in Redis so rules can be tuned on
what the desk saw; `frontwatch feedback --export FILE` writes them as labelled Post JSONL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, cast

import redis.asyncio as aioredis

from bot.store.connection import connect
from bot.store.keys import FEEDBACK_KEPT, Keys

Verdict = Literal["correct", "false-alarm"]


class EventGone(Exception):
    """The event has expired from Redis: nothing left to label."""


class FeedbackStore:
    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    async def record(self, event_id: str, verdict: Verdict, by_user: int) -> str:
        """Store the verdict with the event's first report; returns the place's name."""
        event = cast(dict[str, str], await self.client.hgetall(self.keys.event(event_id)))
        if not event:
            raise EventGone(event_id)
        first: dict[str, Any] = json.loads(event.get("first_source") or "{}")
        entry = {
            "event_id": event_id,
            "verdict": verdict,
            "by": by_user,
            "at": time.time(),
            "rule": event.get("rule"),
            "location": event.get("location"),
            "geonameid": int(event["geonameid"]) if event.get("geonameid") else None,
            "first_report": first,
        }
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.lpush(self.keys.feedback(), json.dumps(entry, ensure_ascii=False))
            pipe.ltrim(self.keys.feedback(), 0, FEEDBACK_KEPT - 1)
            await pipe.execute()
        return str(event.get("location", event_id))

    async def entries(self) -> list[dict[str, Any]]:
        raw = cast(list[str], await self.client.lrange(self.keys.feedback(), 0, -1))
        return [json.loads(item) for item in reversed(raw)]


async def read_feedback(redis_url: str | None, namespace: str) -> list[dict[str, Any]]:
    """Every stored verdict, oldest first (`frontwatch feedback --export`)."""
    client, embedded = await connect(redis_url)
    try:
        return await FeedbackStore(client, Keys(namespace)).entries()
    finally:
        await client.aclose()
        if embedded is not None:
            embedded.close()


def as_post_lines(entries: list[dict[str, Any]]) -> Iterator[str]:
    """Post JSONL (DESIGN §4) with the desk's label: the newest verdict on each event counts."""
    newest = {e["event_id"]: e for e in entries}
    for entry in newest.values():
        first = entry.get("first_report") or {}
        if not first.get("post_id"):
            continue
        yield json.dumps(
            {
                "id": first["post_id"],
                "text": first.get("text", ""),
                "author": first.get("author"),
                "lang": first.get("lang"),
                "url": first.get("url"),
                "created_at": datetime.fromtimestamp(first["at"], UTC).isoformat()
                if first.get("at")
                else None,
                "label": entry["verdict"] == "correct",
                "rule": entry.get("rule"),
                "location": entry.get("location") if entry["verdict"] == "correct" else None,
                "geonameid": entry.get("geonameid") if entry["verdict"] == "correct" else None,
                "family": "desk-feedback",
            },
            ensure_ascii=False,
        )
