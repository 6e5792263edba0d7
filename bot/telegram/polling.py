"""Telegram update polling that survives what ends python-telegram-bot's own loop, and says how it is.

PTB retries network errors and 409s by itself but gives up for good on a 401 (a revoked token, a
Bot API server answering wrongly for a while): the process stayed up, /healthz green, and no
command was answered again. The bot used for polling turns a refusal of `getUpdates` into a
network error, which PTB's loop retries with its own back-off; every failure and every success is
noted, so /healthz and /status say whether commands are being received and, if not, why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import ExtBot, Updater

from bot.backoff import describe
from bot.sources import SourceState

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "channel_post", "callback_query"]
# PTB names its polling task so; the state check finds it by this name.
POLLING_TASK_NAME = "Updater:start_polling:polling_task"
# A getUpdates failing for this long (PTB keeps retrying) makes the bot unhealthy.
FAILING_FOR_UNHEALTHY_SECONDS = 60.0


class RefusedWhilePolling(NetworkError):
    """Telegram refused the token on getUpdates; retried like a network error instead of ending polling."""


@dataclass
class PollOutcomes:
    last_ok: float = 0.0
    failing_since: float = 0.0
    last_error: str = ""

    def failed(self, reason: str) -> None:
        self.last_error = reason
        self.failing_since = self.failing_since or time.monotonic()


class PollingBot(ExtBot[Any]):
    """The application's bot: notes each getUpdates outcome, and keeps polling through a 401."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # PTB freezes its objects; this one attribute is ours
            self.outcomes = PollOutcomes()

    async def get_updates(self, *args: Any, **kwargs: Any) -> Any:
        try:
            updates = await super().get_updates(*args, **kwargs)
        except InvalidToken as exc:
            self.outcomes.failed("Telegram refused the bot token (401); check TELEGRAM_BOT_TOKEN")
            raise RefusedWhilePolling(self.outcomes.last_error) from exc
        except TelegramError as exc:
            self.outcomes.failed(describe(exc))
            raise
        self.outcomes.last_ok, self.outcomes.failing_since = time.monotonic(), 0.0
        return updates


class TelegramPolling:
    name = "Telegram polling"

    def __init__(self, updater: Updater, bot: PollingBot) -> None:
        self.updater = updater
        self.bot = bot

    async def start(self) -> None:
        await self.updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=self._on_error)

    def _on_error(self, error: TelegramError) -> None:
        log.warning("Telegram polling: %s; python-telegram-bot retries with back-off", describe(error))

    async def stop(self) -> None:
        if self.updater.running:
            await self.updater.stop()

    def state(self) -> SourceState:
        task = next((t for t in asyncio.all_tasks() if t.get_name() == POLLING_TASK_NAME), None)
        if task is None or task.done():
            return SourceState(self.name, False, "stopped: commands are no longer received; restart the bot")
        outcomes = self.bot.outcomes
        failing = outcomes.failing_since
        if failing and time.monotonic() - failing > FAILING_FOR_UNHEALTHY_SECONDS:
            return SourceState(self.name, False, f"failing: {outcomes.last_error}; retrying")
        if failing:
            return SourceState(self.name, True, f"polling (retrying after: {outcomes.last_error})")
        return SourceState(self.name, True, "polling")
