"""Telegram update polling that survives what ends python-telegram-bot's own loop.

PTB retries network errors and 409s by itself but gives up for good on a 401 (a revoked token, a
Bot API server answering wrongly for a while): the process stayed up, /healthz green, and no
command was answered again. A watchdog checks the polling task every few seconds; when it has
ended it says why (log, /healthz, /status) and starts polling again, spaced by back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from telegram.error import InvalidToken, TelegramError
from telegram.ext import Updater

from bot.backoff import describe
from bot.sources import SourceState

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "channel_post", "callback_query"]
# PTB names its polling task so; the watchdog finds it by this name.
POLLING_TASK_NAME = "Updater:start_polling:polling_task"
WATCH_EVERY_SECONDS = 5
RESTART_FIRST_SECONDS = 5.0
RESTART_MAX_SECONDS = 300.0


class TelegramPolling:
    name = "Telegram polling"

    def __init__(self, updater: Updater) -> None:
        self.updater = updater
        self.problem = ""
        self.restarts = 0
        self._next_try = 0.0
        self._wait = RESTART_FIRST_SECONDS

    async def start(self) -> None:
        await self.updater.start_polling(allowed_updates=ALLOWED_UPDATES, error_callback=self._on_error)

    def _on_error(self, error: TelegramError) -> None:
        """PTB retries these itself; they are noted for /healthz and logged once as one line."""
        self.problem = describe(error)
        log.warning("Telegram polling: %s; python-telegram-bot retries", self.problem)

    def _polling_task(self) -> asyncio.Task[object] | None:
        return next((t for t in asyncio.all_tasks() if t.get_name() == POLLING_TASK_NAME), None)

    async def watch(self) -> None:
        """The scheduler's job: restart polling when PTB's loop has ended."""
        task = self._polling_task()
        if task is not None and not task.done():
            if self.problem and time.monotonic() >= self._next_try:
                self.problem, self._wait = "", RESTART_FIRST_SECONDS  # updates flow again
            return
        if time.monotonic() < self._next_try:
            return
        await self._restart()

    async def _restart(self) -> None:
        with contextlib.suppress(Exception):  # the ended loop's own error is why we are here
            if self.updater.running:
                await self.updater.stop()
        try:
            await self.start()
        except InvalidToken:
            self.problem = "Telegram refused the bot token (401); check TELEGRAM_BOT_TOKEN"
        except TelegramError as exc:
            self.problem = describe(exc)
        else:
            self.restarts += 1
            self.problem = self.problem or "polling had stopped; restarted"
            log.warning("Telegram polling had stopped and was restarted (#%d)", self.restarts)
        self._next_try = time.monotonic() + self._wait
        self._wait = min(self._wait * 2, RESTART_MAX_SECONDS)
        if self.problem:
            log.error("Telegram polling: %s; trying again in %.0f s", self.problem, self._wait)

    async def stop(self) -> None:
        if self.updater.running:
            with contextlib.suppress(Exception):  # an ended loop re-raises its error here
                await self.updater.stop()

    def state(self) -> SourceState:
        task = self._polling_task()
        if task is None or task.done():
            return SourceState(self.name, False, f"stopped: {self.problem or 'polling ended'}; restarting")
        if self.problem:
            return SourceState(self.name, True, f"polling (last problem: {self.problem})")
        return SourceState(self.name, True, "polling")
