"""The Telegram target: fans one outbox entry out to the chats that follow it, within Telegram's limits.

One message per event and chat, edited in place as the event gains sources (and a short reply in
the thread when an official confirms it), whichever process delivers which of the event's entries
(bot/store/alert_messages.py). Each (entry, chat) is marked as it goes, so a retry after a failure
or a crash only reaches the chats still missing. A chat that blocked the bot or no longer exists is
unsubscribed and counted; a group upgraded to a supergroup is followed to its new id; a 429 is
waited out by the rate limiter; network errors are retried with back-off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.backoff import retrying
from bot.outbox.alert import Alert
from bot.outbox.marks import kept_alive
from bot.runtime import metrics
from bot.store.alert_messages import AlertMessages
from bot.store.keys import DELIVERED_TTL_SECONDS, DELIVERY_LOCK_SECONDS, Keys
from bot.telegram.i18n import Speaker, pick_language
from bot.telegram.subscriptions import ChatSettings, SubscriptionStore
from bot.telegram.text import alert_html, alert_keyboard, reply_html

log = logging.getLogger(__name__)

# Telegram's flood limits are kept by the bot's rate limiter (bot/telegram/limits.py); this many
# chats are served at once so the limiter, not the fan-out loop, sets the pace.
CONCURRENT_SENDS = 30
# A network error is retried this many times in all (with back-off), then the chat waits for the
# entry's next delivery attempt. 429s are the rate limiter's: it waits them out.
NETWORK_ATTEMPTS = 4
NETWORK_RETRY_MAX_SECONDS = 4.0
# Another entry of the same event is being shown in the chat (by this or another process): ask again after.
CLAIM_AGAIN_SECONDS = 0.1
T = TypeVar("T")
_GONE = ("chat not found", "bot was kicked", "user is deactivated", "bot is not a member", "have no rights")


class DeliveryIncomplete(Exception):
    """Some chats could not be reached this time; the entry stays in the outbox and is retried."""


class TelegramTarget:
    name = "telegram"
    coalesces_updates = True  # one message per event and chat, edited: only the newest update matters

    def __init__(
        self,
        bot: Bot,
        store: SubscriptionStore,
        client: aioredis.Redis,
        keys: Keys,
        demo: bool = False,
        admin_ids: frozenset[int] = frozenset(),
    ) -> None:
        self.demo = demo  # every message marked as a demo (frontwatch demo --telegram)
        self.admin_ids = admin_ids  # their private chats get the verdict buttons
        self.bot = bot
        self.store = store
        self.client = client
        self.keys = keys
        self.messages = AlertMessages(client, keys)
        self._slots = asyncio.Semaphore(CONCURRENT_SENDS)

    async def deliver(self, entry_id: str, alert: Alert) -> None:
        chats = await self.store.chats_for(alert)
        outcomes = await asyncio.gather(*(self._to_chat_in_turn(entry_id, alert, chat) for chat in chats))
        failed = [chat.chat_id for chat, ok in zip(chats, outcomes, strict=True) if not ok]
        if failed:
            raise DeliveryIncomplete(
                f"{len(failed)} of {len(chats)} chats not reached yet (first: {failed[0]})"
            )

    async def _to_chat_in_turn(self, entry_id: str, alert: Alert, chat: ChatSettings) -> bool:
        async with self._slots:  # bounds the Redis connections and requests in flight, not the pace
            return await self._to_chat(entry_id, alert, chat)

    async def _to_chat(self, entry_id: str, alert: Alert, chat: ChatSettings) -> bool:
        mark = self.keys.delivery(entry_id, f"telegram:{chat.chat_id}")
        if not await self.client.set(mark, "sending", nx=True, ex=DELIVERY_LOCK_SECONDS):
            return bool(await self.client.get(mark) == "sent")
        try:
            async with kept_alive(self.client, mark, DELIVERY_LOCK_SECONDS):
                message_id = await self._show_following_moves(entry_id, alert, chat)
        except (Forbidden, BadRequest, ChatMigrated) as exc:
            if not _chat_gone(exc):
                await self.client.delete(mark)
                metrics.FAILED.labels("refused").inc()
                log.error("telegram refused %s for chat %s: %s", alert.event_id, chat.chat_id, exc.message)
                return False
            await self.store.forget_chat(chat.chat_id)
            await self.store.bump("chats_unsubscribed_gone")
            metrics.FAILED.labels("chat_gone").inc()
            log.warning("chat %s is gone (%s): unsubscribed", chat.chat_id, exc.message)
        except (NetworkError, RetryAfter) as exc:
            await self.client.delete(mark)
            metrics.FAILED.labels("network").inc()
            log.warning("telegram unreachable for chat %s (%s); will retry", chat.chat_id, exc)
            return False
        else:
            log.info(
                "%s %s from posts %s (outbox %s) -> chat %s message %s",
                alert.kind,
                alert.event_id,
                ",".join(alert.post_ids),
                entry_id,
                chat.chat_id,
                message_id,
            )
        await self.client.set(mark, "sent", ex=DELIVERED_TTL_SECONDS)
        metrics.SENT.labels(alert.kind).inc()
        metrics.LATENCY.observe(max(0.0, time.time() - int(entry_id.split("-")[0]) / 1000))
        return True

    async def _show_following_moves(self, entry_id: str, alert: Alert, chat: ChatSettings) -> int | None:
        """Show the entry in the chat; a group that became a supergroup keeps everything it followed
        under its new id, and gets the alert there."""
        try:
            return await self._show(entry_id, alert, chat)
        except ChatMigrated as exc:
            new_id = exc.new_chat_id
            await self.store.move_chat(chat.chat_id, new_id)
            log.warning(
                "chat %s became %s (a supergroup): its subscriptions moved there", chat.chat_id, new_id
            )
            message_id = await self._show(entry_id, alert, await self.store.settings(new_id))
            moved_mark = self.keys.delivery(entry_id, f"telegram:{new_id}")
            await self.client.set(moved_mark, "sent", ex=DELIVERED_TTL_SECONDS)
            return message_id

    async def _show(self, entry_id: str, alert: Alert, chat: ChatSettings) -> int | None:
        """The event's one message in the chat: sent with its first entry, edited by newer ones. An
        entry older than the one shown (another process delivered a newer update first) is skipped."""
        while (claim := await self.messages.claim(alert.event_id, chat.chat_id, entry_id)).action == "wait":
            await asyncio.sleep(CLAIM_AGAIN_SECONDS)  # another entry of the event is shown in this chat now
        if claim.action == "skip":
            return claim.message_id
        lock = self.messages.lock_key(alert.event_id, chat.chat_id)
        try:
            async with kept_alive(self.client, lock, DELIVERY_LOCK_SECONDS):
                message_id = await self._send_or_edit(alert, chat, claim.message_id)
        except BaseException:
            await self.messages.abandon(alert.event_id, chat.chat_id, entry_id)
            raise
        await self.messages.done(alert.event_id, chat.chat_id, entry_id, message_id)
        return message_id

    async def _send_or_edit(self, alert: Alert, chat: ChatSettings, existing: int | None) -> int:
        """Edit the event's message when it has one (and reply to it for a confirmation), else send one."""
        say = Speaker(pick_language(chat.ui_language, chat.telegram_language))
        text = alert_html(alert, self.demo, say)
        markup = alert_keyboard(alert, chat.chat_id in self.admin_ids, say)
        if existing is not None and await self._edit(chat.chat_id, existing, text, markup):
            reply = reply_html(alert, self.demo, say)
            if reply is not None:
                await _with_network_retries(
                    lambda: self.bot.send_message(chat.chat_id, reply, reply_to_message_id=existing)
                )
            await self.store.bump("updates_sent")
            return existing
        message = await _with_network_retries(
            lambda: self.bot.send_message(
                chat.chat_id,
                text,
                reply_markup=markup,
                message_thread_id=chat.thread_id or None,  # the forum topic the chat subscribed in
                disable_notification=chat.silent(),  # the chat's quiet hours: no sound
            )
        )
        await self.store.bump("alerts_sent")
        return message.message_id

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Edit the alert's message in place; False when it no longer exists (a new one is sent)."""
        try:
            await _with_network_retries(
                lambda: self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=markup
                )
            )
        except BadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" in reason:
                return True
            if "message to edit not found" in reason:
                return False
            raise
        return True


async def _with_network_retries(request: Callable[[], Awaitable[T]]) -> T:
    """One Bot API request, retried on network errors. 429s are the rate limiter's (it waits them out)."""
    async for attempt in retrying(
        lambda e: isinstance(e, NetworkError) and not isinstance(e, BadRequest),
        "Telegram request",
        attempts=NETWORK_ATTEMPTS,
        maximum=NETWORK_RETRY_MAX_SECONDS,
    ):
        with attempt:
            return await request()
    raise AssertionError("unreachable: tenacity re-raises the last error")


def _chat_gone(exc: Exception) -> bool:
    if isinstance(exc, ChatMigrated):  # moved again while being followed: the next attempt follows it
        return False
    if isinstance(exc, Forbidden):
        return True
    return any(reason in str(exc).lower() for reason in _GONE)
