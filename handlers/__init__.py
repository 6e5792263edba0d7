"""Telegram command handlers: plain async functions, all registered here."""

from __future__ import annotations

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import admin, commands, subscribe

# Commands arrive as messages in chats and groups, and as channel posts in channels.
_WHERE = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST

MENU = [
    BotCommand("subscribe", "follow a country, a city or everything"),
    BotCommand("unsubscribe", "stop following something"),
    BotCommand("list", "what this chat follows"),
    BotCommand("mute", "pause alerts, e.g. /mute 2h"),
    BotCommand("unmute", "alerts on again"),
    BotCommand("status", "this chat's settings"),
    BotCommand("help", "all commands"),
]


def register(app: Application) -> None:  # type: ignore[type-arg]
    routes = {
        "start": commands.start,
        "help": commands.help_command,
        "list": commands.list_subscriptions,
        "status": commands.status,
        "mute": commands.mute,
        "unmute": commands.unmute,
        "subscribe": subscribe.subscribe,
        "unsubscribe": subscribe.unsubscribe,
        "reload": admin.reload_rules,
        "stats": admin.stats,
    }
    for name, callback in routes.items():
        app.add_handler(CommandHandler(name, callback, filters=_WHERE))
    app.add_handler(CallbackQueryHandler(subscribe.button))
    app.add_handler(MessageHandler(filters.COMMAND & _WHERE, commands.unknown))
    app.add_error_handler(commands.on_error)


async def publish_menu(app: Application) -> bool:  # type: ignore[type-arg]
    """Best effort: the bot works without its command menu, so a failure is only reported."""
    try:
        return bool(await app.bot.set_my_commands(MENU))
    except TelegramError:
        return False
