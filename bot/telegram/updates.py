"""Updates from Telegram handled concurrently across chats, in order within one chat.

python-telegram-bot handles one update at a time by default, so a chat flooding the bot (each reply
a second apart, Telegram's per-chat limit) delayed every other chat's commands. Here each chat has
its own queue: a chat waits only for its own earlier updates, and the global bound counts updates
being handled, not updates waiting behind their chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates handled at once across all chats (each mostly waits on Redis or Telegram).
MAX_CONCURRENT_UPDATES = 32
# Updates accepted from Telegram and not yet handled, across all chats, before polling waits.
UPDATES_QUEUED_LIMIT = 10_000


@dataclass
class _ChatTurn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        # PTB's own bound is final and would count updates waiting behind their chat, so it is set
        # out of the way and the real bound is taken after the chat's turn comes.
        super().__init__(UPDATES_QUEUED_LIMIT)
        self._handling = asyncio.Semaphore(max_concurrent_updates)
        self._turns: dict[int, _ChatTurn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._handling:
                await coroutine
            return
        turn = self._turns.setdefault(chat.id, _ChatTurn())
        turn.waiting += 1
        try:
            async with turn.lock, self._handling:  # this chat's earlier updates first (locks are FIFO)
                await coroutine
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                del self._turns[chat.id]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
