"""Taps on the bot's keyboards: follow and unfollow, pages, the language filter, the bot's language.

Each tap is answered once, with a short toast, and the message it was on is edited in place (its
text and its ✅ marks); no new message. A button from an older keyboard that no longer means anything
gets a clear toast and a fresh keyboard.
"""

from __future__ import annotations

from html import escape

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.telegram.i18n import LANGUAGES, Speaker
from bot.telegram.subscriptions import ChatSettings, Subscription
from handlers import keyboards, replies
from handlers.parsing import Refused, SettingChange, known_languages, parse_button
from handlers.permissions import may_change, speaker
from handlers.services import Context
from handlers.subscribe import apply, chat_of, setting_text, summary

OURS = ("sub", "unsub", "pg", "lang", "ui")


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    data = query.data or ""
    action = data.partition(":")[0]
    if action not in OURS:
        await _stale(update, context, await speaker(update, context))
        return
    if action != "pg" and not await may_change(update, context):
        return
    settings = await context.bot_data.store.settings(update.effective_chat.id)
    say = await speaker(update, context, settings)
    if action == "pg":
        await _page(update, context, say, data)
    elif action == "lang":
        await _language_filter(update, context, say, settings, data.partition(":")[2])
    elif action == "ui":
        await _interface(update, context, data.partition(":")[2])
    else:
        await _toggle(update, context, say, data)


async def _toggle(update: Update, context: Context, say: Speaker, data: str) -> None:
    query, svc = update.callback_query, context.bot_data
    assert query is not None
    chat = chat_of(update)
    action, _, key = data.partition(":")
    try:
        sub = parse_button(data, svc)
    except Refused:
        # Stopping works for anything the chat follows, even what the rules no longer know.
        known = {s.key: s for s in await svc.store.subscriptions(chat.chat_id)}
        if action != "unsub" or key not in known:
            await _stale(update, context, say)
            return
        sub = known[key]
    if action == "sub":
        text, toast = await apply(svc, chat, sub, say)
    else:
        text, toast = await _stop(context, chat, sub, say)
    await query.answer(toast[:200])
    await _refresh(update, context, say, text)


async def _stop(context: Context, chat: ChatSettings, sub: Subscription, say: Speaker) -> tuple[str, str]:
    what = keyboards.name(sub, say)
    if await context.bot_data.store.remove(chat.chat_id, sub.key):
        return escape(say(replies.STOPPED, what=what)), say(replies.TOAST_STOPPED, what=what)
    return escape(say(replies.WAS_NOT_FOLLOWING, what=what)), say(replies.WAS_NOT_FOLLOWING, what=what)


async def _page(update: Update, context: Context, say: Speaker, data: str) -> None:
    query, svc = update.callback_query, context.bot_data
    assert query is not None and update.effective_chat is not None
    parts = data.split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        await _stale(update, context, say)
        return
    only_followed = parts[2:] == ["u"]
    followed = await svc.store.subscriptions(update.effective_chat.id)
    markup = keyboards.follow_screen(svc, say, followed, int(parts[1]), only_followed)
    await query.answer()
    header = replies.CHOOSE_TO_STOP if only_followed else replies.CHOOSE_TO_FOLLOW
    await _edit(query, say(header) + "\n\n" + await summary(svc, update.effective_chat.id, say), markup)


async def _language_filter(
    update: Update, context: Context, say: Speaker, settings: ChatSettings, code: str
) -> None:
    query, svc = update.callback_query, context.bot_data
    assert query is not None
    chosen = set(settings.languages)
    if code == "all":
        chosen = set()
    elif code in known_languages(svc):
        chosen ^= {code}
    else:
        await _stale(update, context, say)
        return
    change = SettingChange("languages", ",".join(sorted(chosen)), "")
    await svc.store.update_settings(settings.chat_id, languages=change.value)
    text = setting_text(change, say)
    await query.answer(text[:200])
    await _refresh(update, context, say, escape(text))


async def _interface(update: Update, context: Context, code: str) -> None:
    query, svc = update.callback_query, context.bot_data
    assert query is not None and update.effective_chat is not None
    if code not in LANGUAGES:
        await _stale(update, context, await speaker(update, context))
        return
    await svc.store.update_settings(update.effective_chat.id, ui_language=code)
    say = Speaker(code)
    await query.answer(say(replies.SPEAKING))
    await _edit(query, say(replies.SPEAKING), keyboards.interface_languages(code))


async def _refresh(update: Update, context: Context, say: Speaker, headline: str) -> None:
    """The tapped message, edited: the outcome, what the chat follows now, and the ✅ moved.

    Only our own settings keyboards are edited; an alert's message keeps its text and buttons."""
    query, svc = update.callback_query, context.bot_data
    assert query is not None and update.effective_chat is not None
    current = _our_keyboard(query)
    if current is None:
        return
    chat_id = update.effective_chat.id
    followed = {s.key for s in await svc.store.subscriptions(chat_id)}
    languages = (await svc.store.settings(chat_id)).languages
    text = headline + "\n\n" + await summary(svc, chat_id, say)
    await _edit(query, text, keyboards.redrawn(current, followed, languages))


async def _stale(update: Update, context: Context, say: Speaker) -> None:
    """A button that means nothing now: say so, and give our keyboards a fresh follow screen."""
    query, svc = update.callback_query, context.bot_data
    assert query is not None and update.effective_chat is not None
    if _our_keyboard(query) is None:
        await query.answer(say(replies.NO_LONGER_VALID), show_alert=True)
        return
    await query.answer(say(replies.STALE_BUTTON), show_alert=True)
    followed = await svc.store.subscriptions(update.effective_chat.id)
    text = say(replies.CHOOSE_TO_FOLLOW) + "\n\n" + await summary(svc, update.effective_chat.id, say)
    await _edit(query, text, keyboards.follow_screen(svc, say, followed))


def _our_keyboard(query: CallbackQuery) -> InlineKeyboardMarkup | None:
    """The tapped message's keyboard when it is one of our settings keyboards (not an alert's)."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return None
    markup = message.reply_markup
    buttons = [b for row in markup.inline_keyboard for b in row]
    if all(str(b.callback_data or "").partition(":")[0] in OURS for b in buttons):
        return markup
    return None


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
