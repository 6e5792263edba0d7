"""Everyday commands: /start, /help, /list, /status, /mute, /unmute, and unknown commands."""

from __future__ import annotations

import logging
import time
from html import escape

from telegram import Update

from handlers import replies
from handlers.parsing import Refused, parse_duration
from handlers.permissions import may_change, reply
from handlers.services import Context

log = logging.getLogger("frontwatch.handlers")


async def start(update: Update, context: Context) -> None:
    svc = context.bot_data
    keyboard = replies.country_keyboard(svc.focus_countries(), svc.countries)
    await reply(update, replies.WELCOME, keyboard)


async def help_command(update: Update, context: Context) -> None:
    svc = context.bot_data
    user = update.effective_user
    admin = replies.ADMIN_HELP if user and user.id in svc.admin_ids else ""
    await reply(update, replies.HELP.format(admin=admin))


async def list_subscriptions(update: Update, context: Context) -> None:
    svc = context.bot_data
    chat_id = update.effective_chat.id if update.effective_chat else 0
    subs = await svc.store.subscriptions(chat_id)
    await reply(update, replies.subscriptions_text(subs, await svc.store.settings(chat_id)))


async def status(update: Update, context: Context) -> None:
    svc = context.bot_data
    chat_id = update.effective_chat.id if update.effective_chat else 0
    subs = await svc.store.subscriptions(chat_id)
    text = replies.subscriptions_text(subs, await svc.store.settings(chat_id))
    user = update.effective_user
    if user and user.id in svc.admin_ids:
        health = await svc.health()
        text += "\n\n<b>Bot</b>\n" + "\n".join(f"{escape(k)}: {escape(v)}" for k, v in health.items())
    await reply(update, text)


async def mute(update: Update, context: Context) -> None:
    if not await may_change(update, context):
        return
    svc = context.bot_data
    try:
        seconds = parse_duration(" ".join(context.args or []) or "1h")
    except Refused as exc:
        await reply(update, escape(str(exc)))
        return
    chat_id = update.effective_chat.id if update.effective_chat else 0
    until = time.time() + seconds
    await svc.store.update_settings(chat_id, muted_until=until)
    when = time.strftime("%d %b %H:%M UTC", time.gmtime(until))
    await reply(
        update, f"🔕 Muted until {when}. Alerts of that time are not sent later. /unmute to end it now."
    )


async def unmute(update: Update, context: Context) -> None:
    if not await may_change(update, context):
        return
    svc = context.bot_data
    chat_id = update.effective_chat.id if update.effective_chat else 0
    await svc.store.update_settings(chat_id, muted_until=0)
    await reply(update, "🔔 Alerts are on again.")


async def unknown(update: Update, context: Context) -> None:
    await reply(update, replies.UNKNOWN_COMMAND)


async def on_error(update: object, context: Context) -> None:
    """Any exception in a handler: logged with its traceback, and a polite line to the user."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, replies.INTERNAL_ERROR)
