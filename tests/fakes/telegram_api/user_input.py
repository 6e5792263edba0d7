"""The users' side: messages, channel posts and button presses a test makes, queued as Updates for
getUpdates.
"""

from __future__ import annotations

import asyncio
import json
import time

from tests.fakes.telegram_api.chats import _Chat, _FakeTelegramChats
from tests.fakes.telegram_api.content import _command_entities
from tests.fakes.telegram_api.spec import BOT_USERNAME, DEFAULT_USER_ID, JsonDict


class _FakeTelegramInput(_FakeTelegramChats):
    """What users do, as a test makes them do it, and the update queue it feeds."""

    # --- user input ---------------------------------------------------------------------------

    def send_user_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = None,
        language_code: str = "en",
        message_thread_id: int | None = None,
    ) -> JsonDict:
        """A user writes in a chat (added on first use); returns the queued Update.

        `message_thread_id`: the forum topic written in (the chat must be a forum supergroup)."""
        chat = self._chat_for_input(chat_id, chat_type)
        if chat.type == "channel":
            raise ValueError("users do not write in channels: use channel_post()")
        sender = user_id if user_id is not None else (chat.id if chat.type == "private" else DEFAULT_USER_ID)
        message = self._incoming(chat, text)
        message["from"] = self._user(sender, username, language_code)
        if message_thread_id is not None:
            if not chat.is_forum:
                raise ValueError(f"chat {chat_id} is not a forum: add it with is_forum=True")
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
        chat.store(message, by_bot=False)
        return self._queue("message", message)

    def channel_post(self, chat_id: int, text: str) -> JsonDict:
        """A post in a channel (added on first use); returns the queued Update."""
        chat = self._chat_for_input(chat_id, "channel")
        message = self._incoming(chat, text)
        message["sender_chat"] = chat.json()
        chat.store(message, by_bot=False)
        return self._queue("channel_post", message)

    def upgrade_group(self, chat_id: int, new_chat_id: int, user_id: int = DEFAULT_USER_ID) -> None:
        """A group's admin upgrades it to a supergroup: the old id answers 400 with migrate_to_chat_id
        from now on, and the bot gets the two service messages Telegram sends (in the old group,
        `migrate_to_chat_id`; in the new supergroup, `migrate_from_chat_id`)."""
        self.migrate_chat(chat_id, new_chat_id)
        old, new = self._known_chat(chat_id), self._known_chat(new_chat_id)
        for chat, field, value in (
            (old, "migrate_to_chat_id", new_chat_id),
            (new, "migrate_from_chat_id", chat_id),
        ):
            message: JsonDict = {
                "message_id": chat.next_message_id(),
                "date": int(time.time()),
                "chat": chat.json(),
                "from": self._user(user_id),
                field: value,
            }
            self._queue("message", message)

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str = "en",
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
            "from": self._user(sender, language_code=language_code),
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

    def _user(self, user_id: int, username: str | None = None, language_code: str = "en") -> JsonDict:
        if user_id == self.bot_id:
            return self._bot_user()
        user: JsonDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User {user_id}",
            "language_code": language_code,
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
