"""Everyday commands: /start, /help, /list, /status, /mute, /unmute, /quiet, /timezone, /language,
and unknown commands."""

from __future__ import annotations

import logging
import time
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update

from bot.telegram.i18n import Speaker, pick_language
from handlers import keyboards, replies
from handlers.parsing import Refused, clean, parse_duration, parse_quiet
from handlers.permissions import chat_settings, may_change, reply, speaker
from handlers.services import Context
from handlers.subscribe import follow_screen, summary

log = logging.getLogger("frontwatch.handlers")


async def start(update: Update, context: Context) -> None:
    await follow_screen(update, context, replies.WELCOME)


async def help_command(update: Update, context: Context) -> None:
    say = await speaker(update, context)
    user = update.effective_user
    text = say(replies.HELP)
    if user and user.id in context.bot_data.admin_ids:
        text += "\n\n" + say(replies.ADMIN_HELP)
    await reply(update, context, text)


async def list_subscriptions(update: Update, context: Context) -> None:
    chat_id = update.effective_chat.id if update.effective_chat else 0
    svc = context.bot_data
    say = await speaker(update, context)
    followed = await svc.store.subscriptions(chat_id)
    markup = keyboards.follow_screen(svc, say, followed, only_followed=True) if followed else None
    await reply(update, context, await summary(svc, chat_id, say), markup)


async def status(update: Update, context: Context) -> None:
    svc = context.bot_data
    chat_id = update.effective_chat.id if update.effective_chat else 0
    say = await speaker(update, context)
    text = await summary(svc, chat_id, say)
    user = update.effective_user
    if user and user.id in svc.admin_ids:
        health = await svc.health()
        lines = "\n".join(f"{escape(k)}: {escape(v)}" for k, v in health.items())
        text += f"\n\n<b>{escape(say(replies.BOT_HEADER))}</b>\n{lines}"
    await reply(update, context, text)


async def mute(update: Update, context: Context) -> None:
    if not await may_change(update, context):
        return
    svc = context.bot_data
    settings = await chat_settings(update, context)
    say = await speaker(update, context, settings)
    try:
        seconds = parse_duration(" ".join(context.args or []) or "1h")
    except Refused as exc:
        await reply(update, context, escape(say(exc.msgid, **exc.values)))
        return
    until = time.time() + seconds
    await svc.store.update_settings(settings.chat_id, muted_until=until)
    await reply(update, context, escape(say(replies.MUTED, when=replies.when(until, settings, say))))


async def unmute(update: Update, context: Context) -> None:
    if not await may_change(update, context):
        return
    settings = await chat_settings(update, context)
    await context.bot_data.store.update_settings(settings.chat_id, muted_until=0)
    await reply(update, context, (await speaker(update, context, settings))(replies.UNMUTED))


async def quiet(update: Update, context: Context) -> None:
    settings = await chat_settings(update, context)
    say = await speaker(update, context, settings)
    if not context.args:
        text = say(replies.QUIET_SET, span=settings.quiet, zone=settings.zone().key) if settings.quiet else ""
        await reply(update, context, escape(text or say(replies.QUIET_NONE)))
        return
    if not await may_change(update, context):
        return
    try:
        span = parse_quiet(" ".join(context.args))
    except Refused as exc:
        await reply(update, context, escape(say(exc.msgid, **exc.values)))
        return
    await context.bot_data.store.update_settings(settings.chat_id, quiet=span)
    text = say(replies.QUIET_SET, span=span, zone=settings.zone().key) if span else say(replies.QUIET_OFF)
    await reply(update, context, escape(text))


async def timezone(update: Update, context: Context) -> None:
    settings = await chat_settings(update, context)
    say = await speaker(update, context, settings)
    if not context.args:
        await reply(update, context, escape(say(replies.ZONE_SHOW, zone=settings.zone().key)))
        return
    if not await may_change(update, context):
        return
    name = clean(" ".join(context.args)).replace(" ", "_")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        await reply(update, context, escape(say(replies.ZONE_UNKNOWN, zone=name)))
        return
    await context.bot_data.store.update_settings(settings.chat_id, timezone=zone.key)
    settings.timezone = zone.key
    await reply(
        update, context, escape(say(replies.ZONE_SET, zone=zone.key, now=replies.local_now(settings, say)))
    )


async def language(update: Update, context: Context) -> None:
    """The language the bot speaks in this chat: a keyboard, or `/language fa`."""
    settings = await chat_settings(update, context)
    say = await speaker(update, context, settings)
    wanted = clean(" ".join(context.args or [])).lower()
    if wanted:
        if not await may_change(update, context):
            return
        code = pick_language(wanted)
        if code == wanted:
            await context.bot_data.store.update_settings(settings.chat_id, ui_language=code)
            await reply(update, context, Speaker(code)(replies.SPEAKING), keyboards.interface_languages(code))
            return
    await reply(update, context, say(replies.CHOOSE_INTERFACE), keyboards.interface_languages(say.lang))


async def unknown(update: Update, context: Context) -> None:
    await reply(update, context, (await speaker(update, context))(replies.UNKNOWN_COMMAND))


async def on_error(update: object, context: Context) -> None:
    """Any exception in a handler: logged with its traceback, and a polite line to the user."""
    log.error("handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        say = await speaker(update, context)
        await context.bot.send_message(update.effective_chat.id, say(replies.INTERNAL_ERROR))
