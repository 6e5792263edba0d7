"""Commands for the bot's administrators (user ids in ADMIN_IDS): /reload and /stats."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.rules import RulesError
from handlers import replies
from handlers.permissions import NOT_ADMIN, is_admin, reply, speaker
from handlers.services import Context


async def reload_rules(update: Update, context: Context) -> None:
    say = await speaker(update, context)
    if not is_admin(update, context):
        await reply(update, context, say(NOT_ADMIN))
        return
    try:
        report = await context.bot_data.reload_rules()
    except RulesError as exc:
        text = escape(say(replies.RELOAD_FAILED)) + "\n<pre>" + escape(exc.report())[:3500]
        await reply(update, context, text + "</pre>")
        return
    await reply(update, context, escape(say(replies.RELOADED)) + "\n<pre>" + escape(report)[:3500] + "</pre>")


async def stats(update: Update, context: Context) -> None:
    """Counters shared by every process through Redis (a replay's deliveries included), then health."""
    if not is_admin(update, context):
        await reply(update, context, (await speaker(update, context))(NOT_ADMIN))
        return
    svc = context.bot_data
    counters = await svc.store.counters()
    lines = [f"chats following something: {await svc.store.count_chats()}"]
    lines += [f"{name.replace('_', ' ')}: {value}" for name, value in sorted(counters.items())]
    lines += [f"{k}: {v}" for k, v in (await svc.health()).items()]
    await reply(update, context, "\n".join(escape(line) for line in lines))
