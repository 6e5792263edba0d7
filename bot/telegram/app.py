"""The one place a python-telegram-bot Application is built: token, Bot API server, limits, defaults.

`frontwatch run` polls through it; `replay` and `demo` send through its bot. Every request goes
through the paced rate limiter; HTML parse mode and no link previews are PTB `Defaults`, so no
call repeats them. A token Telegram refuses is reported without the token.
"""

from __future__ import annotations

from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, Defaults
from telegram.request import HTTPXRequest

from bot.backoff import describe
from bot.config import Settings
from bot.telegram.limits import Pace, PacedRateLimiter
from bot.telegram.polling import PollingBot
from bot.telegram.updates import PerChatUpdateProcessor
from handlers.services import CONTEXT_TYPES, Context, Services

NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), then put "
    "TELEGRAM_BOT_TOKEN=<the token> in the environment or in .env. To see frontwatch work without "
    "a bot, run `frontwatch demo`."
)

# Connections for sending: enough for the fan-out's concurrent chats and the handlers' replies.
CONNECTIONS = 256
NO_PREVIEWS = LinkPreviewOptions(is_disabled=True)

BotApplication = Application[PollingBot, Context, dict[Any, Any], dict[Any, Any], Services, Any]


class TelegramNotReady(Exception):
    """The bot cannot start talking to Telegram; the message says why, never the token."""


def build_application(settings: Settings) -> BotApplication:
    if settings.telegram_bot_token is None:
        raise TelegramNotReady(NO_TOKEN)
    base = settings.telegram_api_base.rstrip("/")
    bot = PollingBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        rate_limiter=PacedRateLimiter(),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        request=HTTPXRequest(connection_pool_size=CONNECTIONS),
        get_updates_request=HTTPXRequest(),
    )
    app: BotApplication = (
        Application.builder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(PerChatUpdateProcessor())
        .build()
    )
    return app


async def connect_bot(app: BotApplication, settings: Settings) -> None:
    """Initialize the application (Telegram's getMe): a refused token or an unreachable server is
    a TelegramNotReady naming the cause and the server, never the token."""
    where = settings.telegram_api_base
    try:
        await app.initialize()
    except InvalidToken:
        raise TelegramNotReady(
            f"Telegram refused TELEGRAM_BOT_TOKEN (at {where}): check the token @BotFather gave, "
            "and TELEGRAM_API_BASE if you set it"
        ) from None
    except NetworkError as exc:
        raise TelegramNotReady(f"cannot reach Telegram at {where}: {describe(exc)}") from None
    except TelegramError as exc:
        raise TelegramNotReady(f"Telegram at {where} refused to start the bot: {describe(exc)}") from None


def share_limits(app: BotApplication, pace: Pace) -> None:
    """Count Telegram's limits in `pace` (Redis), together with every other process using the token."""
    limiter = app.bot.rate_limiter
    if not isinstance(limiter, PacedRateLimiter):
        raise TelegramNotReady("the Telegram application was not built by bot.telegram.app")
    limiter.share(pace)
