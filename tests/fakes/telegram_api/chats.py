"""Chats and their messages: what a test sets up (chats, blocks, migrations, members) and reads
(the bot's messages as users see them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fakes.telegram_api.core import _FakeTelegramCore
from tests.fakes.telegram_api.spec import BLOCKED, CHAT_TYPES, MEMBER_STATUSES, JsonDict


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
    is_forum: bool = False  # a supergroup with topics: messages may carry message_thread_id

    def json(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "type": self.type}
        if self.is_forum:
            data["is_forum"] = True
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


class _FakeTelegramChats(_FakeTelegramCore):
    """The chats a test adds, blocks or migrates, and the bot's messages in them."""

    _chats: dict[int, _Chat]

    # --- chats --------------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        type: str = "private",
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
    ) -> None:
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}, not {type!r}")
        if is_forum and type != "supergroup":
            raise ValueError("only supergroups have forum topics")
        chat = _Chat(chat_id, type, title, username.lstrip("@") if username else None, is_forum=is_forum)
        self._chats[chat_id] = chat

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

    def messages_to(self, chat_id: int) -> list[str]:
        """The bot's messages in the chat as users see them now (after edits; HTML already parsed)."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [stored.message["text"] for stored in chat.messages.values() if stored.by_bot]

    def message(self, chat_id: int, message_id: int) -> JsonDict:
        """The Message JSON as getUpdates or sendMessage would show it now."""
        return self._known_chat(chat_id).messages[message_id].message
