"""The fake Telegram Bot API, driven by the real python-telegram-bot over HTTP on 127.0.0.1.

If these pass, a test of the bot that points python-telegram-bot at `FakeTelegram` sees what it
would see from Telegram: the same objects, the same exceptions, the same flood limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeTelegram

PRIVATE = 42
OTHER_PRIVATE = 43
GROUP = -5001
CHANNEL = -1001234567
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Follow Afghanistan", callback_data="sub:AF")]])


class ManualClock:
    """A monotonic clock the test moves, so flood limits are exercised without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # python-telegram-bot 22 warns that RetryAfter.retry_after will become a timedelta; opt in now.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _with_chats(server: FakeTelegram) -> FakeTelegram:
    server.add_chat(PRIVATE)
    server.add_chat(OTHER_PRIVATE)
    server.add_chat(GROUP, "group", title="Watchers")
    server.add_chat(CHANNEL, "channel", title="Alerts", username="fw_alerts")
    return server


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(clock=clock) as server:
        yield _with_chats(server)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with fake.bot() as client:
        yield client


async def _until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _raw(fake: FakeTelegram, http_method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(http_method, f"{fake.url}{path}", **kwargs) as response,
    ):
        return response.status, await response.json()


# --- the HTTP surface ---------------------------------------------------------------------------


async def test_base_url_gets_the_token_appended_and_get_me_answers(fake: FakeTelegram, bot: Bot) -> None:
    assert fake.url.startswith("http://127.0.0.1:")
    assert bot.base_url == f"{fake.url}/bot{TOKEN}"
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, BOT_USERNAME)
    # `async with Bot` already called getMe once, as an Application's initialize() does.
    assert [call.status for call in fake.calls("getMe")] == [200, 200]


async def test_another_token_is_unauthorized_and_an_unknown_method_not_found(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=fake.base_url):
            pass
    assert await _raw(fake, "GET", "/bot999:wrong/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await _raw(fake, "POST", f"/bot{TOKEN}/fooBar") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )


async def test_parameters_come_as_query_string_json_or_form(fake: FakeTelegram, clock: ManualClock) -> None:
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "x"}]]}
    base = f"/bot{TOKEN}/sendMessage"
    status, body = await _raw(fake, "GET", base, params={"chat_id": str(PRIVATE), "text": "by query"})
    assert (status, body["result"]["message_id"]) == (200, 1)
    clock.advance(1)
    await _raw(fake, "POST", base, json={"chat_id": PRIVATE, "text": "by json", "reply_markup": markup})
    clock.advance(1)
    # Method names are case-insensitive, as on Telegram.
    await _raw(fake, "POST", f"/bot{TOKEN}/sendmessage", data={"chat_id": "@fw_alerts", "text": "by form"})
    assert fake.messages_to(PRIVATE) == ["by query", "by json"]
    assert fake.messages_to(CHANNEL) == ["by form"]
    assert fake.sent[1].reply_markup == markup


# --- sending and editing ------------------------------------------------------------------------


async def test_send_then_edit_in_a_private_chat(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    first = await bot.send_message(PRIVATE, "<b>Kunduz</b> fell", parse_mode=ParseMode.HTML)
    clock.advance(1)
    second = await bot.send_message(PRIVATE, "plain", reply_markup=KEYBOARD)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.from_user is not None and first.from_user.username == BOT_USERNAME
    assert first.chat.id == PRIVATE and first.chat.type == "private"
    assert first.text == "Kunduz fell"
    assert first.entities == (MessageEntity(MessageEntity.BOLD, 0, 6),)
    assert second.reply_markup == KEYBOARD

    clock.advance(1)
    edited = await bot.edit_message_text(
        "<i>Kunduz</i> retaken", PRIVATE, first.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message)  # True would mean an inline message
    assert edited.edit_date is not None and edited.text == "Kunduz retaken"
    assert fake.messages_to(PRIVATE) == ["Kunduz retaken", "plain"]
    assert [(s.method, s.message_id, s.text) for s in fake.sent] == [
        ("sendMessage", 1, "<b>Kunduz</b> fell"),
        ("sendMessage", 2, "plain"),
        ("editMessageText", 1, "<i>Kunduz</i> retaken"),
    ]
    assert fake.violations == []


async def test_edits_refused_like_telegram(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    sent = await bot.send_message(PRIVATE, "same")
    clock.advance(1)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("same", PRIVATE, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("new", PRIVATE, 99)
    assert fake.count_400 == 2


async def test_reply_to_a_message(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    alert = await bot.send_message(GROUP, "alert")
    reply = await bot.send_message(GROUP, "confirmed", reply_to_message_id=alert.message_id)
    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == alert.message_id
    assert fake.sent[-1].reply_to_message_id == alert.message_id
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(GROUP, "lost", reply_to_message_id=77)


async def test_html_is_parsed_into_text_and_utf16_entities(fake: FakeTelegram, bot: Bot) -> None:
    html = '🇦🇫 <b>Mazar &amp; Balkh</b> — <a href="https://x.com/a?b=1&amp;c=2">@a</a> & co\n'
    message = await bot.send_message(PRIVATE, html, parse_mode=ParseMode.HTML)
    assert message.text == "🇦🇫 Mazar & Balkh — @a & co"
    # python-telegram-bot slices entities in UTF-16: the flag before them must be counted as 4 units.
    assert message.parse_entities() == {
        MessageEntity(MessageEntity.BOLD, 5, 13): "Mazar & Balkh",
        MessageEntity(MessageEntity.TEXT_LINK, 21, 2, url="https://x.com/a?b=1&c=2"): "@a",
    }
    for bad, reason in [
        ("<b>open", 'end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unsupported start tag ""'),
        ("<br/>", 'Unsupported start tag "br/"'),
        ("<b>x</i>", "Unmatched end tag"),
    ]:
        with pytest.raises(BadRequest, match=rf"(?i)can't parse entities: .*{reason}"):
            await bot.send_message(OTHER_PRIVATE, bad, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(OTHER_PRIVATE, "<b>x</b>" + "y" * 4096, parse_mode=ParseMode.HTML)
    assert fake.violations == []


# --- refusals and injected faults ---------------------------------------------------------------


async def test_blocked_chat_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(PRIVATE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(PRIVATE, "hello")
    assert (fake.count_403, fake.sent) == (1, [])


async def test_unknown_chat_is_a_bad_request(fake: FakeTelegram, bot: Bot) -> None:
    # python-telegram-bot strips "Bad Request: " and capitalize()s the rest: match case-insensitively.
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "hello")


async def test_migrated_group_names_its_new_id(fake: FakeTelegram, bot: Bot) -> None:
    fake.migrate_chat(GROUP, -1009999)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "hello")
    assert caught.value.new_chat_id == -1009999
    assert (await bot.send_message(-1009999, "hello")).chat.type == "supergroup"


async def test_fail_next_429_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(PRIVATE, "hello")
    assert caught.value.retry_after == timedelta(seconds=7)
    await bot.send_message(PRIVATE, "hello")
    assert (fake.count_429, fake.violations, fake.messages_to(PRIVATE)) == (1, [], ["hello"])


async def test_fail_next_5xx_is_a_network_error(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("getChat", 502, count=2)
    fake.fail_next("getChat", 500, "Internal Server Error: restart")
    for expected in ("Bad Gateway", "Bad Gateway", "restart"):
        with pytest.raises(NetworkError, match=expected):
            await bot.get_chat(PRIVATE)
    assert (await bot.get_chat(PRIVATE)).id == PRIVATE
    assert fake.count_5xx == 3


# --- updates ------------------------------------------------------------------------------------


async def test_injected_updates_arrive_through_get_updates(fake: FakeTelegram, bot: Bot) -> None:
    prompt = await bot.send_message(PRIVATE, "Follow which country?", reply_markup=KEYBOARD)
    command = f"/subscribe@{BOT_USERNAME} AF"
    fake.send_user_message(GROUP, command, user_id=7)
    fake.press_button(PRIVATE, prompt.message_id, "sub:AF")
    fake.channel_post(CHANNEL, "Balkh update")

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [1, 2, 3]
    message, query, post = updates[0].message, updates[1].callback_query, updates[2].channel_post
    assert message is not None and message.from_user is not None and message.from_user.id == 7
    assert message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command) - 3),)
    assert message.parse_entity(message.entities[0]) == f"/subscribe@{BOT_USERNAME}"
    assert query is not None and query.data == "sub:AF" and query.from_user.id == PRIVATE
    assert query.message is not None and query.message.message_id == prompt.message_id
    assert query.message.chat.id == PRIVATE and query.chat_instance
    assert post is not None and post.chat.type == "channel" and post.sender_chat == post.chat

    assert await bot.answer_callback_query(query.id, "Following")
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query(query.id)
    # An offset past the last update confirms them all.
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_long_poll_returns_as_soon_as_an_update_is_queued(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    fake.send_user_message(PRIVATE, "/start")
    updates = await asyncio.wait_for(poll, 2)
    assert len(updates) == 1 and time.monotonic() - started < 1.5

    started = time.monotonic()
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2


async def test_a_second_poller_ends_the_first_with_conflict(fake: FakeTelegram, bot: Bot) -> None:
    # One Bot polls on a single pooled connection, so the second poller needs a Bot of its own.
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with fake.bot() as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


# --- flood limits -------------------------------------------------------------------------------


async def test_two_messages_within_a_second_to_a_private_chat_are_a_violation() -> None:
    async with FakeTelegram() as fake, fake.bot() as bot:
        fake.add_chat(PRIVATE)
        await bot.send_message(PRIVATE, "one")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(PRIVATE, "two")
    assert caught.value.retry_after == timedelta(seconds=1)
    assert fake.count_429 == 1 and len(fake.violations) == 1
    assert "private chat 42" in fake.violations[0]
    assert fake.messages_to(PRIVATE) == ["one"]


async def test_group_and_overall_limits_slide(clock: ManualClock) -> None:
    server = FakeTelegram(clock=clock, group_chat_per_minute=2, overall_per_second=3)
    async with server as fake, fake.bot() as bot:
        _with_chats(fake)
        for _ in range(2):
            await bot.send_message(GROUP, "alert")
            clock.advance(10)
        with pytest.raises(RetryAfter) as caught:
            await bot.edit_message_text("edited", GROUP, 1)
        assert caught.value.retry_after == timedelta(seconds=40)
        clock.advance(40)
        await bot.edit_message_text("edited", GROUP, 1)

        fake.add_chat(44)
        for chat in (PRIVATE, OTHER_PRIVATE, CHANNEL):
            await bot.send_message(chat, "burst")
        with pytest.raises(RetryAfter):
            await bot.send_message(44, "one too many in the same second")
    assert len(fake.violations) == 2
    assert fake.violations[0].startswith("editMessageText to group chat -5001: more than 2 message(s)")
    assert fake.violations[1].endswith("per 1 s across all chats")


# --- chats and commands -------------------------------------------------------------------------


async def test_chat_info_members_and_commands(bot: Bot) -> None:
    channel = await bot.get_chat("@fw_alerts")
    assert (channel.id, channel.type, channel.title) == (CHANNEL, "channel", "Alerts")
    assert isinstance(await bot.get_chat_member(CHANNEL, bot.id), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(GROUP, 1001), ChatMemberMember)

    commands = [BotCommand("subscribe", "Follow a country"), BotCommand("stop", "Stop alerts")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.close() and await bot.log_out()


# --- a whole Application ------------------------------------------------------------------------


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, "Follow which country?", reply_markup=KEYBOARD)


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Following")
    await query.edit_message_text(f"Following {query.data}")


async def test_an_application_polls_and_answers(fake: FakeTelegram, clock: ManualClock) -> None:
    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CallbackQueryHandler(_pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.send_user_message(PRIVATE, "/start")
        await _until(lambda: fake.messages_to(PRIVATE) == ["Follow which country?"])
        clock.advance(1)
        # Message 1 is the user's /start, message 2 the bot's answer with the keyboard.
        fake.press_button(PRIVATE, 2, "sub:AF")
        await _until(lambda: fake.messages_to(PRIVATE) == ["Following sub:AF"])
        await app.updater.stop()
        await app.stop()
    assert [c.status for c in fake.calls("answerCallbackQuery")] == [200]
    assert fake.violations == []
