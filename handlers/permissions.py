"""Who may change a chat's settings, and replying in a way that works in chats, groups and channels."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from handlers import replies
from handlers.services import Context


async def reply(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, reply_markup=keyboard)


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
    await _refuse(update, replies.GROUP_ADMINS_ONLY)
    return False


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return bool(user and user.id in context.bot_data.admin_ids)


async def _refuse(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)
