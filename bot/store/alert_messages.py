"""Which Telegram message shows an event in a chat, and which outbox entry may change it now.

An event is one message per chat, sent with its alert and edited by each update. With several
processes delivering, the alert of an event may still be on its way to a chat when another process
takes the event's update: without coordination the update became a second message, or an older
entry's edit arrived last and showed stale figures. A lock per (event, chat) lets one entry at a
time show itself in the chat; the newest entry shown is recorded, so an older one arriving late is
skipped (the newer already says more), and an entry retried after a crash is not sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import redis.asyncio as aioredis

from bot.store.keys import DELIVERY_LOCK_SECONDS, TELEGRAM_MESSAGE_TTL_SECONDS, Keys

_SCRIPT = (Path(__file__).parent / "alert_message.lua").read_text(encoding="utf-8")


Action = Literal["wait", "skip", "edit", "send"]


@dataclass(frozen=True)
class Claim:
    """What to do with an entry in a chat: wait, skip (shown already), edit the message, or send one."""

    action: Action
    message_id: int | None


class AlertMessages:
    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._script = client.register_script(_SCRIPT)

    def lock_key(self, event_id: str, chat_id: int) -> str:
        return self.keys.telegram_message_lock(event_id, chat_id)

    async def claim(self, event_id: str, chat_id: int, entry_id: str) -> Claim:
        reply: Any = await self._run("claim", event_id, chat_id, entry_id)
        action, message_id = (_text(part) for part in reply)
        if action not in ("wait", "skip", "edit", "send"):
            raise ValueError(f"alert_message.lua answered {action!r} to a claim")
        return Claim(cast(Action, action), int(message_id) if message_id else None)

    async def done(self, event_id: str, chat_id: int, entry_id: str, message_id: int) -> None:
        await self._run("done", event_id, chat_id, entry_id, message_id)

    async def abandon(self, event_id: str, chat_id: int, entry_id: str) -> None:
        await self._run("abandon", event_id, chat_id, entry_id)

    async def _run(self, op: str, event_id: str, chat_id: int, entry_id: str, message_id: int = 0) -> Any:
        keys = [self.keys.telegram_message(event_id, chat_id), self.lock_key(event_id, chat_id)]
        args: list[str | int] = [
            op,
            entry_id,
            DELIVERY_LOCK_SECONDS * 1000,
            TELEGRAM_MESSAGE_TTL_SECONDS,
            message_id,
        ]
        return await self._script(keys=keys, args=args)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
