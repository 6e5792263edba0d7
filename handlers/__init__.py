"""Telegram command handlers: plain async functions, all registered here."""

from __future__ import annotations

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.telegram.i18n import LANGUAGES, N_, Speaker
from handlers import admin, alert_buttons, buttons, commands, subscribe

# Commands arrive as messages in chats and groups, and as channel posts in channels.
_WHERE = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST

MENU = [
    ("subscribe", N_("follow a country, a city or everything")),
    ("unsubscribe", N_("stop following something")),
    ("list", N_("what this chat follows")),
    ("mute", N_("pause alerts, e.g. /mute 2h")),
    ("unmute", N_("alerts on again")),
    ("quiet", N_("silent alerts at night, e.g. /quiet 22:00-07:00")),
    ("timezone", N_("this chat's time zone, e.g. /timezone Asia/Kabul")),
    ("language", N_("the language I speak here")),
    ("status", N_("this chat's settings")),
    ("help", N_("all commands")),
]


def register(app: Application) -> None:  # type: ignore[type-arg]
    routes = {
        "start": commands.start,
        "help": commands.help_command,
        "list": commands.list_subscriptions,
        "status": commands.status,
        "mute": commands.mute,
        "unmute": commands.unmute,
        "quiet": commands.quiet,
        "timezone": commands.timezone,
        "language": commands.language,
        "subscribe": subscribe.subscribe,
        "unsubscribe": subscribe.unsubscribe,
        "reload": admin.reload_rules,
        "stats": admin.stats,
    }
    for name, callback in routes.items():
        app.add_handler(CommandHandler(name, callback, filters=_WHERE))
    app.add_handler(CallbackQueryHandler(alert_buttons.on_alert_button, pattern=r"^(mute|fb):"))
    app.add_handler(CallbackQueryHandler(buttons.on_button))
    app.add_handler(MessageHandler(filters.COMMAND & _WHERE, commands.unknown))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, subscribe.group_upgraded))
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, subscribe.plain_text)
    )
    app.add_error_handler(commands.on_error)


def menu(lang: str) -> list[BotCommand]:
    say = Speaker(lang)
    return [BotCommand(name, say(description)) for name, description in MENU]


async def publish_menu(app: Application) -> bool:  # type: ignore[type-arg]
    """The command menu in every language we speak (Telegram shows the user's own); best effort:
    the bot works without it, so a failure is only reported."""
    try:
        done = bool(await app.bot.set_my_commands(menu("en")))
        for lang in LANGUAGES[1:]:
            done = bool(await app.bot.set_my_commands(menu(lang), language_code=lang)) and done
        return done
    except TelegramError:
        return False
