"""The fake Telegram Bot API through python-telegram-bot: its HTTP surface, sending and editing
messages, and the refusals and faults Telegram answers with.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Bot, Message, MessageEntity
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.fake_telegram_api_support import (
    CHANNEL,
    GROUP,
    KEYBOARD,
    OTHER_PRIVATE,
    PRIVATE,
    ManualClock,
    _raw,
)
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeTelegram

# isort: split
# The shared fixtures: pytest finds them in the modules that import them.
from tests.fake_telegram_api_support import (  # noqa: F401
    _retry_after_as_timedelta,
    fixture_bot,
    fixture_clock,
    fixture_fake,
)

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
