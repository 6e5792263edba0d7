"""What the fake is told and tells: the test token and bot, Telegram's limits and chat kinds, and
Telegram's own error descriptions.
"""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]

TOKEN = "123456:TEST-token"
BOT_USERNAME = "frontwatch_test_bot"
# The user id a group member gets when a test does not name one.
DEFAULT_USER_ID = 1001

MAX_TEXT_CHARS = 4096
MAX_CALLBACK_DATA_BYTES = 64
CHAT_TYPES = ("private", "group", "supergroup", "channel")
MEMBER_STATUSES = ("creator", "administrator", "member", "left", "kicked")

# Telegram's own wording: python-telegram-bot and the bot under test match on these strings.
CHAT_NOT_FOUND = "Bad Request: chat not found"
METHOD_NOT_FOUND = "Not Found: method not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
BLOCKED = {
    "private": "Forbidden: bot was blocked by the user",
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot is not a member of the channel chat",
}
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
