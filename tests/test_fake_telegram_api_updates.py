"""The fake Telegram Bot API through python-telegram-bot: updates and long polling, flood limits,
chats and commands, and a whole Application polling and answering.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from telegram import Bot, BotCommand, ChatMemberAdministrator, ChatMemberMember, MessageEntity, Update
from telegram.error import BadRequest, Conflict, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fake_telegram_api_support import (
    CHANNEL,
    GROUP,
    KEYBOARD,
    OTHER_PRIVATE,
    PRIVATE,
    ManualClock,
    _until,
    _with_chats,
)
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram

# isort: split
# The shared fixtures: pytest finds them in the modules that import them.
from tests.fake_telegram_api_support import (  # noqa: F401
    _retry_after_as_timedelta,
    fixture_bot,
    fixture_clock,
    fixture_fake,
)

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
