"""What a message may hold, checked as Telegram checks it: text and entities, inline keyboards, bot
commands; and the ChatMember JSON getChatMember answers.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.telegram_api.errors import _ApiError
from tests.fakes.telegram_api.html_entities import _HtmlReader, _trim, _utf16_len
from tests.fakes.telegram_api.spec import MAX_CALLBACK_DATA_BYTES, MAX_TEXT_CHARS, JsonDict


def _formatted(text: str | None, parse_mode: str | None, entities: Any) -> tuple[str, list[JsonDict]]:
    """The text and entities a message shows, from a sendMessage or editMessageText request."""
    if text is None or text == "":
        raise _ApiError(400, "Bad Request: message text is empty")
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = _HtmlReader(text).parse()
    elif mode in ("", "markdown", "markdownv2"):
        # Markdown is not parsed by the fake: the text is kept as sent.
        plain, found = text, _given_entities(entities)
    else:
        raise _ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
    plain, found = _trim(plain, found)
    if not plain:
        raise _ApiError(400, "Bad Request: message text is empty")
    if len(plain) > MAX_TEXT_CHARS:
        raise _ApiError(400, "Bad Request: message is too long")
    return plain, found


def _given_entities(entities: Any) -> list[JsonDict]:
    if entities is None:
        return []
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise _ApiError(400, "Bad Request: can't parse entities JSON object")
    return [dict(e) for e in entities]


def _inline_keyboard(markup: Any) -> JsonDict | None:
    """The markup a message shows (only inline keyboards are part of a message), validated."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(400, "Bad Request: can't parse inline keyboard button: field must be an Array")
    for row in rows:
        for button in row:
            _check_button(button)
    return {"inline_keyboard": rows}


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise _ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def _command_entities(text: str) -> list[JsonDict]:
    """The bot_command entity a client attaches to "/cmd" or "/cmd@botname" at the start of a text."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}]


def _member_json(status: str, user: JsonDict, chat_type: str) -> JsonDict:
    member: JsonDict = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "administrator":
        rights = "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members"
        rights += " can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories"
        member.update({"can_be_edited": False, "is_anonymous": False, "can_promote_members": False})
        member.update(dict.fromkeys(rights.split(), True))
        if chat_type == "channel":
            member.update({"can_post_messages": True, "can_edit_messages": True})
    return member


def _check_command(command: Any) -> None:
    if not isinstance(command, dict) or not _BOT_COMMAND.fullmatch(str(command.get("command", ""))):
        raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    if not 1 <= len(str(command.get("description", ""))) <= 256:
        raise _ApiError(400, "Bad Request: command description is invalid")
