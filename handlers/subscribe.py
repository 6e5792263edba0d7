"""/subscribe, /unsubscribe and the buttons of their keyboards."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.telegram.subscriptions import Added, ChatSettings, Subscription
from handlers import replies
from handlers.parsing import Refused, SettingChange, clean, parse_button, parse_subscribe
from handlers.permissions import may_change, reply
from handlers.services import Context, Services


def _chat(update: Update) -> ChatSettings:
    chat = update.effective_chat
    assert chat is not None
    return ChatSettings(chat_id=chat.id, chat_type=chat.type, title=clean(chat.title or chat.full_name or ""))


async def subscribe(update: Update, context: Context) -> None:
    svc = context.bot_data
    if not context.args:
        await reply(
            update,
            "What should this chat follow?",
            replies.country_keyboard(svc.focus_countries(), svc.countries),
        )
        return
    if not await may_change(update, context):
        return
    try:
        parsed = parse_subscribe(context.args, svc)
    except Refused as exc:
        await reply(update, escape(str(exc)))
        return
    await reply(update, await _apply(svc, _chat(update), parsed))


async def _apply(svc: Services, chat: ChatSettings, parsed: Subscription | SettingChange) -> str:
    if isinstance(parsed, SettingChange):
        await svc.store.update_settings(chat.chat_id, **{parsed.field: parsed.value})
        return f"Done: {escape(parsed.description)}."
    outcome = await svc.store.add(chat, parsed)
    if outcome is Added.ALREADY:
        return f"This chat already follows {escape(parsed.label)}."
    if outcome is Added.LIMIT:
        return (
            f"This chat follows {svc.store.limit} things already, the most it can. "
            "/unsubscribe something first, or follow a whole country."
        )
    return f"✅ This chat now follows {escape(parsed.label)}. Alerts arrive here as they happen."


async def unsubscribe(update: Update, context: Context) -> None:
    svc = context.bot_data
    chat = _chat(update)
    subs = await svc.store.subscriptions(chat.chat_id)
    if not subs:
        await reply(update, "This chat follows nothing.")
        return
    if not context.args:
        await reply(update, "Tap what to stop following:", replies.unsubscribe_keyboard(subs))
        return
    if not await may_change(update, context):
        return
    wanted = clean(" ".join(context.args)).lower()
    if wanted in ("all", "everything"):
        removed = await svc.store.remove(chat.chat_id)
    else:
        match = _find(subs, wanted, context.args, svc)
        if match is None:
            await reply(update, f"This chat does not follow “{escape(wanted)}”. /list shows what it follows.")
            return
        removed = await svc.store.remove(chat.chat_id, match.key)
    await reply(update, "Stopped following " + escape(", ".join(removed)) + ".")


def _find(subs: list[Subscription], wanted: str, args: list[str], svc: Services) -> Subscription | None:
    """The subscription a person means by what they typed: its label, code, or the place it names."""
    for sub in subs:
        label = sub.label.lower()
        if wanted in (label, sub.value.lower(), sub.key.lower()) or label.startswith(wanted + " ("):
            return sub
    try:
        parsed = parse_subscribe(args, svc)
    except Refused:
        return None
    key = parsed.key if isinstance(parsed, Subscription) else None
    return next((s for s in subs if s.key == key), None)


async def button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = context.bot_data
    try:
        sub = parse_button(query.data or "", svc)
    except Refused as exc:
        await query.answer(str(exc), show_alert=True)
        return
    if update.effective_chat is None or not await may_change(update, context):
        return
    chat = _chat(update)
    if (query.data or "").startswith("unsub:"):
        removed = await svc.store.remove(chat.chat_id, sub.key)
        await query.answer("Stopped following " + ", ".join(removed) if removed else "Already stopped")
        return
    text = await _apply(svc, chat, sub)
    await query.answer(text.replace("✅ ", "")[:190])
    if query.message is not None:
        await context.bot.send_message(chat.chat_id, text)
