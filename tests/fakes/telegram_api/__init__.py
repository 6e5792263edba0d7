"""A fake Telegram Bot API server for tests: the real python-telegram-bot talks to it over HTTP.

`FakeTelegram` serves `/bot<token>/<method>` on 127.0.0.1 (a free port) with aiohttp, so the code
under test runs unchanged, HTTP client and all; only the base URL differs::

    async with FakeTelegram() as fake:
        fake.add_chat(42)
        app = Application.builder().token(fake.token).base_url(fake.base_url).build()
        ...
        assert fake.messages_to(42) == ["hello"]
        assert fake.violations == []

What it imitates, because a bot's correctness depends on it:

- the answers python-telegram-bot parses (full `Message`, `User`, `ChatFullInfo`, `ChatMember` objects)
  and Telegram's error JSON with its exact descriptions, so a bot's error handling is exercised;
- HTML parse mode: text is parsed into plain text plus entities the way Telegram does, and bad
  HTML is refused with "can't parse entities", so escaping bugs fail tests instead of production;
- flood limits (30 messages a second overall, 1 a second per private chat, 20 a minute per group
  or channel): an excess is answered 429 and also recorded in `violations`;
- long polling of `getUpdates`, fed by `send_user_message`, `press_button` and `channel_post`.

Not imitated: files, webhooks, inline mode, Markdown parse modes (text is stored as sent) and
Telegram's automatic url/mention entities in plain text.

The package, one part per module: `spec` (token, limits, Telegram's error descriptions), `errors`,
`records`, `params`, `html_entities`, `content`, and FakeTelegram built from `core`, `chats`, `limits`,
`user_input`, `methods` and `server`. Import from here: every public name is re-exported.
"""

from __future__ import annotations

from tests.fakes.telegram_api.params import Handler
from tests.fakes.telegram_api.records import ApiCall, SentMessage
from tests.fakes.telegram_api.server import FakeTelegram
from tests.fakes.telegram_api.spec import (
    BLOCKED,
    BOT_USERNAME,
    CHAT_NOT_FOUND,
    CHAT_TYPES,
    DEFAULT_DESCRIPTIONS,
    DEFAULT_USER_ID,
    MAX_CALLBACK_DATA_BYTES,
    MAX_TEXT_CHARS,
    MEMBER_STATUSES,
    METHOD_NOT_FOUND,
    NOT_MODIFIED,
    POLL_CONFLICT,
    QUERY_INVALID,
    TOKEN,
    JsonDict,
)

__all__ = [
    "BLOCKED",
    "BOT_USERNAME",
    "CHAT_NOT_FOUND",
    "CHAT_TYPES",
    "DEFAULT_DESCRIPTIONS",
    "DEFAULT_USER_ID",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_TEXT_CHARS",
    "MEMBER_STATUSES",
    "METHOD_NOT_FOUND",
    "NOT_MODIFIED",
    "POLL_CONFLICT",
    "QUERY_INVALID",
    "TOKEN",
    "ApiCall",
    "FakeTelegram",
    "Handler",
    "JsonDict",
    "SentMessage",
]
