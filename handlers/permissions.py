"""Who may change a chat's settings, the language the bot speaks there, and replying in a way that
works in chats, groups, forum topics and channels."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram.i18n import N_, Speaker, pick_language
from bot.telegram.subscriptions import ChatSettings
from handlers.services import Context

log = logging.getLogger("frontwatch.handlers")

# A command posted in a channel is answered in the channel, where every subscriber reads it; the
# answer and the command are deleted after this long (a channel post has no sender to write to).
CHANNEL_REPLY_SECONDS = 60

NOT_ADMIN = N_("Sorry, only the bot's administrators can do that.")
GROUP_ADMINS_ONLY = N_("In a group, only its administrators can change what it follows.")


async def chat_settings(update: Update, context: Context) -> ChatSettings:
    chat = update.effective_chat
    if chat is None:
        return ChatSettings(0)
    return await context.bot_data.store.settings(chat.id)


async def speaker(update: Update, context: Context, settings: ChatSettings | None = None) -> Speaker:
    """The chat's language: chosen with /language, else the user's Telegram language, else English."""
    chosen = (settings or await chat_settings(update, context)).ui_language
    user = update.effective_user
    return Speaker(pick_language(chosen, user.language_code if user else None))


async def reply(
    update: Update, context: Context, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Answer in the chat (in the forum topic it was asked in); in a channel, only for a while."""
    message = update.effective_message
    if message is None:
        return
    sent = await message.reply_text(text, reply_markup=keyboard, do_quote=False)
    if message.chat.type == ChatType.CHANNEL and context.job_queue is not None:
        context.job_queue.run_once(
            _delete_channel_reply,
            CHANNEL_REPLY_SECONDS,
            data=(message.chat_id, [message.message_id, sent.message_id]),
            name=f"delete-channel-reply:{message.chat_id}:{sent.message_id}",
        )


async def _delete_channel_reply(context: ContextTypes.DEFAULT_TYPE) -> None:
    job = context.job
    if job is None or not isinstance(job.data, tuple):
        return
    chat_id, message_ids = job.data
    try:
        await context.bot.delete_messages(chat_id, message_ids)
    except TelegramError as exc:  # already deleted by an admin, or the bot lost its rights
        log.info("channel %s: replies not deleted (%s)", chat_id, exc)


async def may_change(update: Update, context: Context) -> bool:
    """Private chats and channels: yes. Groups: only the group's administrators. Refusals are answered."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    if chat.type in (ChatType.PRIVATE, ChatType.CHANNEL):
        return True
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        member = None
    if member is not None and member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return True
    say = await speaker(update, context)
    await _refuse(update, context, say(GROUP_ADMINS_ONLY))
    return False


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return bool(user and user.id in context.bot_data.admin_ids)


async def _refuse(update: Update, context: Context, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, context, text)
