"""Commands for the bot's administrators (user ids in ADMIN_IDS): /reload and /stats."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.rules import RulesError
from handlers import replies
from handlers.permissions import is_admin, reply
from handlers.services import Context


async def reload_rules(update: Update, context: Context) -> None:
    if not is_admin(update, context):
        await reply(update, replies.NOT_ADMIN)
        return
    try:
        report = await context.bot_data.reload_rules()
    except RulesError as exc:
        text = (
            "The new rules.yaml has problems; the old rules keep running.\n<pre>"
            + escape(exc.report())[:3500]
        )
        await reply(update, text + "</pre>")
        return
    await reply(update, "Rules reloaded.\n<pre>" + escape(report)[:3500] + "</pre>")


async def stats(update: Update, context: Context) -> None:
    if not is_admin(update, context):
        await reply(update, replies.NOT_ADMIN)
        return
    svc = context.bot_data
    counters = await svc.store.counters()
    lines = [f"chats following something: {await svc.store.count_chats()}"]
    lines += [f"{name.replace('_', ' ')}: {value}" for name, value in sorted(counters.items())]
    lines += [f"{k}: {v}" for k, v in (await svc.health()).items()]
    await reply(update, "\n".join(escape(line) for line in lines))
