"""/subscribe, /unsubscribe, a place named in plain text, and what the chat sees after each."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.telegram.i18n import Speaker
from bot.telegram.subscriptions import Added, ChatSettings, Subscription
from handlers import keyboards, replies
from handlers.parsing import Ask, Refused, SettingChange, clean, known_languages, parse_subscribe
from handlers.permissions import may_change, reply, speaker
from handlers.services import Context, Services


def chat_of(update: Update) -> ChatSettings:
    """Who is subscribing, and the forum topic they asked in (alerts go there)."""
    chat = update.effective_chat
    assert chat is not None
    message = update.effective_message
    thread = message.message_thread_id if message is not None and message.is_topic_message else None
    user = update.effective_user
    return ChatSettings(
        chat_id=chat.id,
        chat_type=chat.type,
        title=clean(chat.title or chat.full_name or ""),
        thread_id=thread or 0,
        telegram_language=(user.language_code or "") if user and chat.type == "private" else "",
    )


async def summary(svc: Services, chat_id: int, say: Speaker) -> str:
    """What the chat follows and how, for the text above a settings keyboard."""
    subs = await svc.store.subscriptions(chat_id)
    labels = {s.key: keyboards.bullet(s, say) for s in subs}
    return replies.subscriptions_text(subs, labels, await svc.store.settings(chat_id), say)


async def follow_screen(update: Update, context: Context, header: str, only_followed: bool = False) -> None:
    svc = context.bot_data
    chat_id = update.effective_chat.id if update.effective_chat else 0
    say = await speaker(update, context)
    followed = await svc.store.subscriptions(chat_id)
    text = say(header) + "\n\n" + await summary(svc, chat_id, say)
    await reply(
        update, context, text, keyboards.follow_screen(svc, say, followed, only_followed=only_followed)
    )


async def subscribe(update: Update, context: Context) -> None:
    if not context.args:
        await follow_screen(update, context, replies.CHOOSE_TO_FOLLOW)
        return
    if not await may_change(update, context):
        return
    svc = context.bot_data
    say = await speaker(update, context)
    try:
        parsed = parse_subscribe(context.args, svc)
    except Refused as exc:
        await reply(update, context, escape(say(exc.msgid, **exc.values)))
        return
    if isinstance(parsed, Ask):
        await ask(update, context, parsed, say)
        return
    text, _ = await apply(svc, chat_of(update), parsed, say)
    await reply(update, context, text)


async def ask(update: Update, context: Context, asked: Ask, say: Speaker) -> None:
    """Several things fit, or only near spellings: a keyboard of them (or of the languages)."""
    svc = context.bot_data
    chat_id = update.effective_chat.id if update.effective_chat else 0
    if asked.languages:
        chosen = (await svc.store.settings(chat_id)).languages
        markup = keyboards.language_filter(known_languages(svc), chosen, say)
        await reply(update, context, say(replies.CHOOSE_LANGUAGES), markup)
        return
    followed = await svc.store.subscriptions(chat_id)
    question = replies.WHICH_ONE if asked.found.count > 1 else replies.DID_YOU_MEAN
    markup = keyboards.choices(asked.found, svc, say, followed)
    await reply(update, context, escape(say(question, typed=asked.typed)), markup)


async def apply(
    svc: Services, chat: ChatSettings, parsed: Subscription | SettingChange, say: Speaker
) -> tuple[str, str]:
    """Follow a thing or change a setting; returns the reply and a short toast."""
    if isinstance(parsed, SettingChange):
        await svc.store.update_settings(chat.chat_id, **{parsed.field: parsed.value})
        text = setting_text(parsed, say)
        return escape(text), text
    what = keyboards.name(parsed, say)
    outcome = await svc.store.add(chat, parsed)
    if outcome is Added.ALREADY:
        return escape(say(replies.ALREADY_FOLLOWS, what=what)), say(replies.ALREADY_FOLLOWS, what=what)
    if outcome is Added.LIMIT:
        text = say(replies.LIMIT, limit=svc.store.limit)
        return escape(text), text
    return escape(say(replies.NOW_FOLLOWS, what=what)), say(replies.TOAST_FOLLOWING, what=what)


def setting_text(change: SettingChange, say: Speaker) -> str:
    """The plain-text confirmation of a changed setting."""
    if change.field == "languages":
        if not change.value:
            return say(replies.EVERY_LANGUAGE)
        return say(replies.SOME_LANGUAGES, languages=str(change.value).replace(",", ", "))
    return say(replies.MIN_SOURCES, n=change.value)


async def unsubscribe(update: Update, context: Context) -> None:
    svc = context.bot_data
    chat = chat_of(update)
    say = await speaker(update, context)
    subs = await svc.store.subscriptions(chat.chat_id)
    if not subs:
        await reply(update, context, say(replies.FOLLOWS_NOTHING))
        return
    if not context.args:
        await follow_screen(update, context, replies.CHOOSE_TO_STOP, only_followed=True)
        return
    if not await may_change(update, context):
        return
    wanted = clean(" ".join(context.args))
    if wanted.lower() in ("all", "everything"):
        gone = subs
        await svc.store.remove(chat.chat_id)
    else:
        match = _find(subs, wanted, context.args, svc)
        if match is None:
            await reply(update, context, escape(say(replies.NOT_FOLLOWING_TYPED, what=wanted)))
            return
        gone = [match]
        await svc.store.remove(chat.chat_id, match.key)
    what = ", ".join(keyboards.name(s, say) for s in gone)
    await reply(update, context, escape(say(replies.STOPPED, what=what)))


def _find(subs: list[Subscription], typed: str, args: list[str], svc: Services) -> Subscription | None:
    """The subscription a person means by what they typed: its label, code, or the place it names."""
    wanted = typed.lower()
    for sub in subs:
        label = sub.label.lower()
        if wanted in (label, sub.value.lower(), sub.key.lower()) or label.startswith(wanted + " ("):
            return sub
    try:
        parsed = parse_subscribe(args, svc)
    except Refused:
        return None
    if isinstance(parsed, Ask):
        keys = {f"country:{c}" for c in parsed.found.countries} | {
            f"place:{p.key}" for p in parsed.found.places
        }
        return next((s for s in subs if s.key in keys), None)
    key = parsed.key if isinstance(parsed, Subscription) else None
    return next((s for s in subs if s.key == key), None)


async def plain_text(update: Update, context: Context) -> None:
    """Text that is not a command, in a private chat: a place or country named offers to follow it."""
    message = update.effective_message
    if message is None or not message.text or update.effective_chat is None:
        return
    if update.effective_chat.type != ChatType.PRIVATE:
        return
    svc = context.bot_data
    say = await speaker(update, context)
    typed = clean(message.text)
    try:
        parsed = parse_subscribe([typed], svc)
    except Refused as exc:
        await reply(update, context, escape(say(exc.msgid, **exc.values)))
        return
    if isinstance(parsed, Ask):
        await ask(update, context, parsed, say)
        return
    if not isinstance(parsed, Subscription):
        return
    followed = await svc.store.subscriptions(update.effective_chat.id)
    button = keyboards.toggle(
        parsed, keyboards.label(parsed, svc, say), parsed.key in {s.key for s in followed}
    )
    await reply(
        update,
        context,
        escape(say(replies.OFFER, what=keyboards.name(parsed, say))),
        InlineKeyboardMarkup([[button]]),
    )


async def group_upgraded(update: Update, context: Context) -> None:
    """A group became a supergroup (Telegram's service message in the old group): what it followed,
    its mutes and settings move to the new id at once, before the next alert meets the old one."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    await context.bot_data.store.move_chat(message.chat_id, message.migrate_to_chat_id)
