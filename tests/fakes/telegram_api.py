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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from aiohttp import web
from telegram import Bot

from tests.fakes.loopback import LoopbackServer

JsonDict = dict[str, Any]
Handler = Callable[["_Params"], Awaitable[Any]]

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


# --- records a test reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """One accepted sendMessage or editMessageText call, with the text exactly as the bot sent it."""

    method: str
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: Any
    reply_to_message_id: int | None
    time: float


@dataclass
class ApiCall:
    """Any request to a Bot API method, accepted or not; `params` as received (form values are strings)."""

    method: str
    params: JsonDict
    time: float
    status: int = 0


# --- internal state ---------------------------------------------------------------------------


class _ApiError(Exception):
    """Ends a request with Telegram's error JSON."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None


@dataclass
class _Stored:
    message: JsonDict
    by_bot: bool


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    blocked: str | None = None
    migrated_to: int | None = None
    last_message_id: int = 0
    messages: dict[int, _Stored] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)

    def json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = f"User {self.id}"
        else:
            data["title"] = self.title or f"Test {self.type} {self.id}"
        if self.username:
            data["username"] = self.username
        return data

    def store(self, message: JsonDict, *, by_bot: bool) -> None:
        self.messages[message["message_id"]] = _Stored(message, by_bot)

    def next_message_id(self) -> int:
        # One counter per chat for users' and the bot's messages alike, as in Telegram.
        self.last_message_id += 1
        return self.last_message_id


class _Window:
    """Acceptance times within the last `period` seconds: a sliding-window rate limit."""

    def __init__(self, limit: int, period: float, tolerance: float) -> None:
        self.limit = limit
        self.period = period
        # Clients space their calls by their own clock at send time; loopback jitter can make two
        # requests arrive a few milliseconds closer than they were sent, which is not a violation.
        self.tolerance = tolerance
        self.times: deque[float] = deque()

    def retry_after(self, now: float) -> int | None:
        """Seconds until one more message fits, or None when it fits now."""
        while self.times and self.times[0] <= now - self.period + self.tolerance:
            self.times.popleft()
        if len(self.times) < self.limit:
            return None
        return max(1, math.ceil(self.times[0] + self.period - now))

    def add(self, now: float) -> None:
        self.times.append(now)


# --- request parameters -----------------------------------------------------------------------

_INT_RE = re.compile(r"-?\d+")
_TRUE = {"true", "1"}
_FALSE = {"false", "0", ""}


class _Params:
    """One request's parameters from a JSON body, a form or the query string.

    Form and query values are all strings (python-telegram-bot JSON-encodes every non-string
    value of a form), so each getter converts on access, as Telegram does per field.
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        raise _ApiError(400, f"Bad Request: invalid {name} specified")

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if str(value).strip().lower() in _TRUE | _FALSE:
            return str(value).strip().lower() in _TRUE
        raise _ApiError(400, f"Bad Request: invalid {name} specified")

    def json(self, name: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _ApiError(400, f"Bad Request: can't parse {name} JSON object") from None

    def chat_ref(self) -> int | str:
        """The chat as the request names it: an id, or "@username" for public chats."""
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if _INT_RE.fullmatch(text):
            return int(text)
        if text.startswith("@"):
            return text[1:].lower()
        raise _ApiError(400, CHAT_NOT_FOUND)


async def _read_params(request: web.Request) -> _Params:
    raw: JsonDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw.update(await _json_body(request))
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            # File uploads are not imitated; only plain fields are kept.
            raw.update({k: v for k, v in form.items() if isinstance(v, str)})
    return _Params(raw)


async def _json_body(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except ValueError:
        raise _ApiError(400, "Bad Request: can't parse JSON") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "Bad Request: JSON object expected")
    return body


# --- Telegram HTML ----------------------------------------------------------------------------

_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# Telegram decodes only these named references (and numeric ones); any other "&" stays literal.
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:([a-z]+)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_PLAIN_RUN = re.compile(r"[^&<]+")
_TAG_NAME = re.compile(r"[^\s>]*")
_ATTR_NAME = re.compile(r"[^\s=>]+")
_SPACE = re.compile(r"\s*")
_TRIMMED = " \t\r\n"


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths are counted in UTF-16 code units, like in Telegram's clients.
    return len(text.encode("utf-16-le")) // 2


def _decode_ref(match: re.Match[str]) -> str | None:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return _NAMED_REFS.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF else None


def _decode_refs(text: str) -> str:
    return _CHAR_REF.sub(lambda m: _decode_ref(m) or m.group(0), text)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    language: str | None = None


class _HtmlReader:
    """Telegram-flavoured HTML to plain text and entities, refusing what Telegram refuses."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JsonDict] = []

    def parse(self) -> tuple[str, list[JsonDict]]:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                self._char_ref()
            elif char == "<":
                self._tag()
            else:
                run = _PLAIN_RUN.match(self.src, self.pos)
                assert run is not None
                self._emit(run.group())
                self.pos = run.end()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return "".join(self.out), self.entities

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += _utf16_len(text)

    def _fail(self, reason: str) -> NoReturn:
        raise _ApiError(400, f"Bad Request: can't parse entities: {reason}")

    def _byte_offset(self, index: int) -> int:
        # Telegram reports positions in bytes of the UTF-8 text.
        return len(self.src[:index].encode())

    def _char_ref(self) -> None:
        match = _CHAR_REF.match(self.src, self.pos)
        decoded = _decode_ref(match) if match else None
        if match is None or decoded is None:
            self._emit("&")
            self.pos += 1
            return
        self._emit(decoded)
        self.pos = match.end()

    def _tag(self) -> None:
        if self.src.startswith("</", self.pos):
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        begin = self.pos
        name_match = _TAG_NAME.match(self.src, begin + 1)
        assert name_match is not None
        name = name_match.group().lower()
        if name_match.end() >= len(self.src):
            self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        if name not in _TAG_ENTITY:
            self._fail(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(begin)}')
        attrs, close = self._attributes(name_match.end(), begin)
        self.pos = close + 1
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self._fail('Tag "span" must have class "tg-spoiler"')
        self.stack.append(_OpenTag(name, attrs, self.length))

    def _skip_space(self, index: int) -> int:
        match = _SPACE.match(self.src, index)
        assert match is not None
        return match.end()

    def _attributes(self, index: int, begin: int) -> tuple[dict[str, str], int]:
        """The tag's attributes and the index of its closing ">"."""
        attrs: dict[str, str] = {}
        while True:
            index = self._skip_space(index)
            if index >= len(self.src):
                self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
            if self.src[index] == ">":
                return attrs, index
            name = _ATTR_NAME.match(self.src, index)
            if name is None:
                self._fail(f"Empty attribute name at byte offset {self._byte_offset(index)}")
            index = self._skip_space(name.end())
            value = ""
            if index < len(self.src) and self.src[index] == "=":
                value, index = self._attribute_value(self._skip_space(index + 1), begin)
            attrs[name.group().lower()] = value

    def _attribute_value(self, index: int, begin: int) -> tuple[str, int]:
        if index >= len(self.src):
            self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        quote = self.src[index]
        if quote in "\"'":
            end = self.src.find(quote, index + 1)
            if end < 0:
                self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
            return _decode_refs(self.src[index + 1 : end]), end + 1
        bare = _TAG_NAME.match(self.src, index)
        assert bare is not None
        return _decode_refs(bare.group()), bare.end()

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset(begin)}")
        name_match = _TAG_NAME.match(self.src, begin + 2)
        assert name_match is not None
        name = name_match.group().lower()
        close = self._skip_space(name_match.end())
        if close >= len(self.src) or self.src[close] != ">":
            self._fail(f"Unclosed end tag at byte offset {self._byte_offset(begin)}")
        expected = self.stack[-1].name
        if name and name != expected:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)},"
                f' expected "</{expected}>", found "</{name}>"'
            )
        self.pos = close + 1
        self._close(self.stack.pop())

    def _close(self, tag: _OpenTag) -> None:
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language, not two entities.
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].language = language.removeprefix("language-")
            return
        length = self.length - tag.start
        entity = _tag_entity(tag, length)
        if entity is not None and length > 0:
            self.entities.append(entity)


def _tag_entity(tag: _OpenTag, length: int) -> JsonDict | None:
    entity: JsonDict = {"type": _TAG_ENTITY[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        if not tag.attrs.get("href"):
            return None
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        if not tag.attrs.get("emoji-id"):
            return None
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    return entity


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Telegram drops leading and trailing whitespace; entities are cut to what is left."""
    lead = _utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    kept = text.strip(_TRIMMED)
    total = _utf16_len(kept)
    trimmed: list[JsonDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    trimmed.sort(key=lambda e: (e["offset"], -e["length"]))
    return kept, trimmed


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


# --- the server -------------------------------------------------------------------------------


class FakeTelegram(LoopbackServer):
    """The Bot API on 127.0.0.1 with chats, updates, recorded calls, faults and flood limits.

    Limits are messages per window (None turns one off). sendMessage counts towards all three;
    editMessageText only towards the per-chat ones. Requests over a limit get a 429 with
    `retry_after` and are listed in `violations`.
    """

    name = "FakeTelegram"

    def __init__(
        self,
        *,
        token: str = TOKEN,
        overall_per_second: int | None = 30,
        private_chat_per_second: int | None = 1,
        group_chat_per_minute: int | None = 20,
        jitter_tolerance: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.sent: list[SentMessage] = []
        self.requests: list[ApiCall] = []
        self.violations: list[str] = []
        self.responses: Counter[int] = Counter()
        self._clock = clock
        self._limits = {
            "overall": (overall_per_second, 1.0),
            "private": (private_chat_per_second, 1.0),
            "group": (group_chat_per_minute, 60.0),
        }
        self._tolerance = jitter_tolerance
        self._overall_window = self._window("overall")
        self._chat_windows: dict[int, _Window | None] = {}
        self._chats: dict[int, _Chat] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._updates: list[JsonDict] = []
        self._last_update_id = 0
        self._last_callback_id = 0
        self._open_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._arrival = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._return_true,
            "close": self._return_true,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
        # Telegram matches method names case-insensitively.
        self._method_names = {name.lower(): name for name in self._methods}

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        # A fresh event: an asyncio.Event belongs to the loop that first waited on it.
        self._arrival = asyncio.Event()
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        await super().stop()

    @property
    def base_url(self) -> str:
        """For python-telegram-bot's base_url, which appends the token and then "/method"."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    def bot(self) -> Bot:
        """A python-telegram-bot Bot pointed at this server (use it as `async with fake.bot() as bot`)."""
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url)

    # --- chats --------------------------------------------------------------------------------

    def add_chat(
        self, chat_id: int, type: str = "private", title: str | None = None, username: str | None = None
    ) -> None:
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}, not {type!r}")
        self._chats[chat_id] = _Chat(chat_id, type, title, username.lstrip("@") if username else None)

    def block(self, chat_id: int, description: str | None = None) -> None:
        """Sends and edits to the chat get a 403: blocked by the user, or kicked for groups and channels."""
        chat = self._known_chat(chat_id)
        chat.blocked = description or BLOCKED[chat.type]

    def unblock(self, chat_id: int) -> None:
        self._known_chat(chat_id).blocked = None

    def migrate_chat(self, chat_id: int, new_chat_id: int) -> None:
        """A group upgraded to a supergroup: the old id gets a 400 with migrate_to_chat_id."""
        chat = self._known_chat(chat_id)
        chat.migrated_to = new_chat_id
        self.add_chat(new_chat_id, "supergroup", chat.title, chat.username)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers for that user (default: the bot administers channels, else member)."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}, not {status!r}")
        self._known_chat(chat_id).members[user_id] = status

    def _known_chat(self, chat_id: int) -> _Chat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise ValueError(f"chat {chat_id} was never added") from None

    # --- what a test reads --------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[str]:
        """The bot's messages in the chat as users see them now (after edits; HTML already parsed)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [stored.message["text"] for stored in chat.messages.values() if stored.by_bot]

    def message(self, chat_id: int, message_id: int) -> JsonDict:
        """The Message JSON as getUpdates or sendMessage would show it now."""
        return self._known_chat(chat_id).messages[message_id].message

    def calls(self, method: str) -> list[ApiCall]:
        """Every request to the method, whatever its outcome (see ApiCall.status)."""
        name = self._canonical(method)
        return [call for call in self.requests if call.method == name]

    @property
    def count_429(self) -> int:
        return self.responses[429]

    @property
    def count_403(self) -> int:
        return self.responses[403]

    @property
    def count_400(self) -> int:
        return self.responses[400]

    @property
    def count_5xx(self) -> int:
        return sum(n for status, n in self.responses.items() if status >= 500)

    # --- faults -------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """The next `count` calls of the method fail with this status before any other check."""
        if status == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        text = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
        queue = self._faults.setdefault(self._canonical(method), deque())
        queue.extend([_Fault(status, text, retry_after)] * count)

    def _canonical(self, method: str) -> str:
        try:
            return self._method_names[method.lower()]
        except KeyError:
            raise ValueError(f"the fake does not serve {method!r}") from None

    # --- user input ---------------------------------------------------------------------------

    def send_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = None,
    ) -> JsonDict:
        """A user writes in a chat (added on first use); returns the queued Update."""
        chat = self._chat_for_input(chat_id, chat_type)
        if chat.type == "channel":
            raise ValueError("users do not write in channels: use channel_post()")
        sender = user_id if user_id is not None else (chat.id if chat.type == "private" else DEFAULT_USER_ID)
        message = self._incoming(chat, text)
        message["from"] = self._user(sender, username)
        chat.store(message, by_bot=False)
        return self._queue("message", message)

    def channel_post(self, chat_id: int, text: str) -> JsonDict:
        """A post in a channel (added on first use); returns the queued Update."""
        chat = self._chat_for_input(chat_id, "channel")
        message = self._incoming(chat, text)
        message["sender_chat"] = chat.json()
        chat.store(message, by_bot=False)
        return self._queue("channel_post", message)

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> JsonDict:
        """A user presses an inline button of the bot's message; returns the queued Update."""
        chat = self._known_chat(chat_id)
        stored = chat.messages.get(message_id)
        if stored is None or not stored.by_bot:
            raise ValueError(f"the bot sent no message {message_id} to chat {chat_id}")
        _check_pressable(stored.message, data)
        self._last_callback_id += 1
        query_id = str(4_000_000_000 + self._last_callback_id)
        self._open_callbacks.add(query_id)
        sender = user_id if user_id is not None else (chat.id if chat.type == "private" else DEFAULT_USER_ID)
        query = {
            "id": query_id,
            "from": self._user(sender),
            "message": json.loads(json.dumps(stored.message)),
            "chat_instance": str(abs(chat.id) * 7919 % 10**18),
            "data": data,
        }
        return self._queue("callback_query", query)

    def _chat_for_input(self, chat_id: int, chat_type: str | None) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            self.add_chat(chat_id, chat_type or _guess_type(chat_id))
            return self._chats[chat_id]
        if chat_type is not None and chat_type != chat.type:
            raise ValueError(f"chat {chat_id} is a {chat.type}, not a {chat_type}")
        return chat

    def _incoming(self, chat: _Chat, text: str) -> JsonDict:
        message: JsonDict = {
            "message_id": chat.next_message_id(),
            "date": int(time.time()),
            "chat": chat.json(),
            "text": text,
        }
        entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        return message

    def _user(self, user_id: int, username: str | None = None) -> JsonDict:
        if user_id == self.bot_id:
            return self._bot_user()
        user: JsonDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User {user_id}",
            "language_code": "en",
        }
        if username:
            user["username"] = username.lstrip("@")
        return user

    def _bot_user(self) -> JsonDict:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Frontwatch Test", "username": BOT_USERNAME}

    def _queue(self, kind: str, payload: JsonDict) -> JsonDict:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, kind: payload}
        self._updates.append(update)
        self._wake()
        return update

    def _wake(self) -> None:
        # Every waiting long poll holds the current event; a fresh one is armed for the next wait.
        self._arrival.set()
        self._arrival = asyncio.Event()

    # --- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            response = await self._route(request)
        except _ApiError as err:
            response = _error(err)
        self.responses[response.status] += 1
        return response

    async def _route(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", request.path)
        if match is None:
            raise _ApiError(404, "Not Found")
        if match.group(1) != self.token:
            raise _ApiError(401, "Unauthorized")
        name = self._method_names.get(match.group(2).lower())
        if name is None:
            raise _ApiError(404, METHOD_NOT_FOUND)
        params = await _read_params(request)
        call = ApiCall(name, params.raw, self._clock())
        self.requests.append(call)
        try:
            result = await self._call(name, params)
        except _ApiError as err:
            call.status = err.status
            raise
        call.status = 200
        return web.json_response({"ok": True, "result": result})

    async def _call(self, name: str, params: _Params) -> Any:
        faults = self._faults.get(name)
        if faults:
            fault = faults.popleft()
            extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            raise _ApiError(fault.status, fault.description, extra)
        return await self._methods[name](params)

    # --- methods ------------------------------------------------------------------------------

    async def _return_true(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> JsonDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _get_updates(self, params: _Params) -> list[JsonDict]:
        offset = params.integer("offset")
        if offset is not None:
            self._confirm(offset)
        limit = min(max(params.integer("limit") or 100, 1), 100)
        # A newer getUpdates ends an older one with 409, as Telegram does to a second bot instance.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()
        await self._wait_for_updates(max(params.integer("timeout") or 0, 0), generation)
        return self._updates[:limit]

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            del self._updates[: max(len(self._updates) + offset, 0)]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    async def _wait_for_updates(self, timeout: float, generation: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._updates and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), remaining)
            if generation != self._poll_generation:
                raise _ApiError(409, POLL_CONFLICT)

    async def _send_message(self, params: _Params) -> JsonDict:
        chat = self._reachable_chat(params)
        text, entities = _formatted(params.text("text"), params.text("parse_mode"), params.json("entities"))
        markup = _inline_keyboard(params.json("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self._enforce_limits("sendMessage", chat)
        message = self._bot_message(chat, chat.next_message_id(), text, entities, markup)
        if reply_to is not None:
            # Telegram nests the replied-to message one level deep only.
            replied = chat.messages[reply_to].message
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        chat.store(message, by_bot=True)
        self._record("sendMessage", chat, message["message_id"], params, reply_to)
        return message

    async def _edit_message_text(self, params: _Params) -> JsonDict:
        if params.raw.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: inline messages are not imitated by the fake")
        chat = self._reachable_chat(params)
        stored = self._editable(chat, params.integer("message_id"))
        text, entities = _formatted(params.text("text"), params.text("parse_mode"), params.json("entities"))
        markup = _inline_keyboard(params.json("reply_markup"))
        old = stored.message
        if (old["text"], old.get("entities", []), old.get("reply_markup")) == (text, entities, markup):
            raise _ApiError(400, NOT_MODIFIED)
        self._enforce_limits("editMessageText", chat)
        message = self._bot_message(chat, old["message_id"], text, entities, markup, date=old["date"])
        message["edit_date"] = int(time.time())
        if "reply_to_message" in old:
            message["reply_to_message"] = old["reply_to_message"]
        chat.store(message, by_bot=True)
        self._record("editMessageText", chat, old["message_id"], params, None)
        return message

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id")
        if query_id not in self._open_callbacks:
            raise _ApiError(400, QUERY_INVALID)
        # A query is answered once; a second answer is refused like an expired one.
        self._open_callbacks.discard(query_id)
        return True

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, 'Bad Request: parameter "commands" must be an Array of at most 100')
        for command in commands:
            _check_command(command)
        self._commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: _Params) -> list[JsonDict]:
        return self._commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        scope = params.json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.text("language_code") or ""

    async def _get_chat(self, params: _Params) -> JsonDict:
        chat = self._chat(params.chat_ref())
        gifts = "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
        return {
            **chat.json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gifts.split(), False),
        }

    async def _get_chat_member(self, params: _Params) -> JsonDict:
        chat = self._chat(params.chat_ref())
        user_id = params.integer("user_id")
        if user_id is None:
            raise _ApiError(400, "Bad Request: user_id is empty")
        default = "administrator" if chat.type == "channel" and user_id == self.bot_id else "member"
        status = chat.members.get(user_id, default)
        return _member_json(status, self._user(user_id), chat.type)

    # --- helpers of the methods ---------------------------------------------------------------

    def _chat(self, ref: int | str) -> _Chat:
        """The chat a request names; a group that became a supergroup answers with its new id."""
        if isinstance(ref, str):
            chat = next((c for c in self._chats.values() if c.username and c.username.lower() == ref), None)
        else:
            chat = self._chats.get(ref)
        if chat is None:
            raise _ApiError(400, CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def _reachable_chat(self, params: _Params) -> _Chat:
        chat = self._chat(params.chat_ref())
        if chat.blocked:
            raise _ApiError(403, chat.blocked)
        return chat

    def _editable(self, chat: _Chat, message_id: int | None) -> _Stored:
        stored = chat.messages.get(message_id) if message_id is not None else None
        if stored is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not stored.by_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _reply_target(self, chat: _Chat, params: _Params) -> int | None:
        """The id of the message replied to; python-telegram-bot sends it inside reply_parameters."""
        reply = params.json("reply_parameters")
        reply = reply if isinstance(reply, dict) else {}
        message_id = reply.get("message_id")
        if message_id is None:
            message_id = params.integer("reply_to_message_id")
        if message_id is None or message_id in chat.messages:
            return message_id
        allowed = params.flag("allow_sending_without_reply") or bool(reply.get("allow_sending_without_reply"))
        if allowed:
            return None
        raise _ApiError(400, "Bad Request: message to be replied not found")

    def _bot_message(
        self,
        chat: _Chat,
        message_id: int,
        text: str,
        entities: list[JsonDict],
        markup: JsonDict | None,
        date: int | None = None,
    ) -> JsonDict:
        message: JsonDict = {"message_id": message_id, "date": date or int(time.time()), "chat": chat.json()}
        if chat.type == "channel":
            # Posts in a channel are signed by the channel, not by the bot.
            message["sender_chat"] = chat.json()
        else:
            message["from"] = self._bot_user()
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _record(
        self, method: str, chat: _Chat, message_id: int, params: _Params, reply_to: int | None
    ) -> None:
        record = SentMessage(
            method=method,
            chat_id=chat.id,
            message_id=message_id,
            text=params.text("text") or "",
            parse_mode=params.text("parse_mode"),
            reply_markup=params.json("reply_markup"),
            reply_to_message_id=reply_to,
            time=self._clock(),
        )
        self.sent.append(record)

    # --- flood limits -------------------------------------------------------------------------

    def _window(self, kind: str) -> _Window | None:
        limit, period = self._limits[kind]
        return None if limit is None else _Window(limit, period, self._tolerance)

    def _chat_window(self, chat: _Chat) -> _Window | None:
        if chat.id not in self._chat_windows:
            self._chat_windows[chat.id] = self._window("private" if chat.type == "private" else "group")
        return self._chat_windows[chat.id]

    def _enforce_limits(self, method: str, chat: _Chat) -> None:
        """Count one message against its limits, or refuse it with 429 and record the violation."""
        now = self._clock()
        windows = [(self._chat_window(chat), "to this chat")]
        if method == "sendMessage":
            windows.append((self._overall_window, "across all chats"))
        active = [(window, scope) for window, scope in windows if window is not None]
        for window, scope in active:
            wait = window.retry_after(now)
            if wait is not None:
                self.violations.append(
                    f"{method} to {chat.type} chat {chat.id}: more than {window.limit} message(s)"
                    f" per {window.period:g} s {scope}"
                )
                raise _ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        for window, _ in active:
            window.add(now)


def _guess_type(chat_id: int) -> str:
    # Telegram's id ranges: users are positive, supergroups and channels -100…, basic groups negative.
    if chat_id > 0:
        return "private"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


def _check_pressable(message: JsonDict, data: str) -> None:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    offered = [button.get("callback_data") for row in rows for button in row]
    if data not in offered:
        raise ValueError(f"message {message['message_id']} has no button with data {data!r}: {offered}")


def _check_command(command: Any) -> None:
    if not isinstance(command, dict) or not _BOT_COMMAND.fullmatch(str(command.get("command", ""))):
        raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    if not 1 <= len(str(command.get("description", ""))) <= 256:
        raise _ApiError(400, "Bad Request: command description is invalid")


def _error(err: _ApiError) -> web.Response:
    body: JsonDict = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return web.json_response(body, status=err.status)
