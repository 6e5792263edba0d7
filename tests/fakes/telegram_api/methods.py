"""The Bot API methods the fake serves, one handler each, and the helpers they share (the chat a
request names, the message the bot sends, the record a test reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from tests.fakes.telegram_api.chats import _Chat, _Stored
from tests.fakes.telegram_api.content import _check_command, _formatted, _inline_keyboard, _member_json
from tests.fakes.telegram_api.errors import _ApiError
from tests.fakes.telegram_api.limits import _FakeTelegramLimits
from tests.fakes.telegram_api.params import _Params
from tests.fakes.telegram_api.records import SentMessage
from tests.fakes.telegram_api.spec import CHAT_NOT_FOUND, NOT_MODIFIED, POLL_CONFLICT, QUERY_INVALID, JsonDict
from tests.fakes.telegram_api.user_input import _FakeTelegramInput


class _FakeTelegramMethods(_FakeTelegramInput, _FakeTelegramLimits):
    """The handlers FakeTelegram._methods names, and their helpers."""

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
        thread = params.integer("message_thread_id")
        if thread is not None and not chat.is_forum and chat.type != "private":
            raise _ApiError(400, "Bad Request: message thread not found")
        self._enforce_limits("sendMessage", chat)
        message = self._bot_message(chat, chat.next_message_id(), text, entities, markup)
        if thread is not None and chat.is_forum:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
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

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._reachable_chat(params)
        if chat.messages.pop(params.integer("message_id") or 0, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _delete_messages(self, params: _Params) -> bool:
        """Telegram deletes what it can and answers true, even when some ids are already gone."""
        chat = self._reachable_chat(params)
        ids = params.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _ApiError(400, "Bad Request: message identifiers are not specified")
        for message_id in ids:
            chat.messages.pop(int(message_id), None)
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
