"""The bot as a settings screen, end to end (real bot, fake Bot API, real Redis): taps edit the
message in place, the right place every time, the language filter, topics, quiet hours, mute."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import handlers.permissions
from bot.outbox.alert import Alert
from bot.telegram.subscriptions import ChatSettings, Subscription
from tests.conftest import eventually
from tests.test_telegram_e2e import SCENARIO, LiveBot, is_mazar_alert, live

__all__ = ["live"]  # the live bot fixture


def keyboard(live: LiveBot, chat_id: int, message_id: int) -> list[tuple[str, str]]:
    """(text, callback data) of every button of a bot message, as the chat sees it now."""
    markup = live.fake.message(chat_id, message_id).get("reply_markup", {})
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def last_keyboard_message(live: LiveBot, chat_id: int) -> int:
    return next(s.message_id for s in reversed(live.fake.sent) if s.chat_id == chat_id and s.reply_markup)


async def press(live: LiveBot, chat_id: int, message_id: int, data: str, **kwargs: Any) -> dict[str, Any]:
    """Tap a button and wait for its message to be edited; returns the bot's one answer (its toast)."""

    def edits() -> int:
        return len([c for c in live.fake.calls("editMessageText") if c.status == 200])

    answers, edited = len(live.fake.calls("answerCallbackQuery")), edits()
    live.fake.press_button(chat_id, message_id, data, **kwargs)
    await eventually(
        lambda: len(live.fake.calls("answerCallbackQuery")) > answers, what=f"the answer to {data}"
    )
    await eventually(lambda: edits() > edited, what=f"the edit after {data}")
    assert live.fake.violations == []
    return live.fake.calls("answerCallbackQuery")[-1].params


async def keys(live: LiveBot, chat_id: int) -> list[str]:
    return [s.key for s in await live.store.subscriptions(chat_id)]


async def test_tapping_a_country_everything_a_place_or_a_rule_follows_and_unfollows_it_in_the_same_message(
    live: LiveBot,
) -> None:
    chat = 1200
    live.fake.add_chat(chat, "private")
    await live.say(chat, "/start")
    screen = last_keyboard_message(live, chat)
    sends = len(live.fake.calls("sendMessage"))
    for data, key, button in [
        ("country:AF", "country:AF", "🇦🇫 Afghanistan"),
        ("all:*", "all:*", "🌍 Everything"),
    ]:
        toast = await press(live, chat, screen, f"sub:{data}")
        assert toast["text"].startswith("Following")
        assert await keys(live, chat) == [key]
        assert (f"✅ {button}", f"unsub:{data}") in keyboard(live, chat, screen)
        assert "now follows" in live.fake.message(chat, screen)["text"]
        await press(live, chat, screen, f"unsub:{data}")
        assert await keys(live, chat) == []
        assert (button, f"sub:{data}") in keyboard(live, chat, screen)
        assert "Stopped following" in live.fake.message(chat, screen)["text"]
    assert len(live.fake.calls("sendMessage")) == sends, "taps edit the message; they send none"

    assert "now follows rule city-contested" in await live.say(chat, "/subscribe rule city-contested")
    await live.say(chat, "/list")
    listed = last_keyboard_message(live, chat)
    assert ("✅ Rule: city-contested", "unsub:rule:city-contested") in keyboard(live, chat, listed)
    await press(live, chat, listed, "unsub:rule:city-contested")
    assert await keys(live, chat) == []
    assert ("Rule: city-contested", "sub:rule:city-contested") in keyboard(live, chat, listed)
    await press(live, chat, listed, "sub:rule:city-contested")
    assert await keys(live, chat) == ["rule:city-contested"]


async def test_tripoli_offers_libya_and_lebanon_and_the_tapped_one_is_followed_then_unfollowed(
    live: LiveBot,
) -> None:
    chat = 1201
    live.fake.add_chat(chat, "private")
    question = await live.say(chat, "/subscribe Tripoli")
    assert "may mean more than one place" in question
    asked = last_keyboard_message(live, chat)
    buttons = dict(keyboard(live, chat, asked))
    assert buttons["🇱🇾 Tripoli, Libya"] == "sub:place:2210247"
    assert buttons["🇱🇧 Tripoli, Lebanon"] == "sub:place:266826"
    await press(live, chat, asked, "sub:place:266826")
    assert await keys(live, chat) == ["place:266826"]
    assert ("✅ 🇱🇧 Tripoli, Lebanon", "unsub:place:266826") in keyboard(live, chat, asked)
    assert ("🇱🇾 Tripoli, Libya", "sub:place:2210247") in keyboard(live, chat, asked)
    await press(live, chat, asked, "unsub:place:266826")  # an unfollow button that works for places
    assert await keys(live, chat) == []


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Tripoli, Lebanon", "place:266826"),
        ("Tripoli LB", "place:266826"),
        ("Tripoli (LY)", "place:2210247"),
        ("DRC", "country:CD"),
        ("DR Congo", "country:CD"),
        ("Burma", "country:MM"),
        ("UK", "country:GB"),
        ("Россия", "country:RU"),
        ("افغانستان", "country:AF"),
        ("Palestine", "country:PS"),
    ],
)
async def test_names_countries_and_short_forms_in_any_language_follow_the_right_place(
    live: LiveBot, typed: str, key: str
) -> None:
    chat = 1202
    live.fake.add_chat(chat, "private")
    assert "now follows" in await live.say(chat, f"/subscribe {typed}")
    assert await keys(live, chat) == [key]


async def test_a_typo_gets_did_you_mean_and_a_vague_command_asks_which(live: LiveBot) -> None:
    chat = 1203
    live.fake.add_chat(chat, "private")
    suggestion = await live.say(chat, "/subscribe Afganistan")
    assert "Did you mean" in suggestion
    asked = last_keyboard_message(live, chat)
    assert ("🇦🇫 Afghanistan", "sub:country:AF") in keyboard(live, chat, asked)
    await press(live, chat, asked, "sub:country:AF")
    assert await keys(live, chat) == ["country:AF"]
    assert "Which country?" in await live.say(chat, "/subscribe country")
    assert "Which city?" in await live.say(chat, "/subscribe city")


async def test_typing_a_city_in_a_private_chat_offers_to_follow_it(live: LiveBot) -> None:
    chat = 1204
    live.fake.add_chat(chat, "private")
    assert "Follow Kabul (AF)?" in await live.say(chat, "Kabul")
    offer = last_keyboard_message(live, chat)
    await press(live, chat, offer, "sub:place:1138958")
    assert await keys(live, chat) == ["place:1138958"]


async def test_start_offers_every_focus_country_of_the_rules(live: LiveBot) -> None:
    chat = 1205
    live.fake.add_chat(chat, "private")
    await live.say(chat, "/start")
    countries = [
        d for _, d in keyboard(live, chat, last_keyboard_message(live, chat)) if d.startswith("sub:country:")
    ]
    assert len(countries) == 21 and {"sub:country:MR", "sub:country:NG", "sub:country:AZ"} <= set(countries)


async def test_all_25_subscriptions_are_reachable_on_pages_of_the_unfollow_screen(live: LiveBot) -> None:
    chat = 1206
    live.fake.add_chat(chat, "private")
    codes = "AF SY UA SD SS CD MM IQ YE ML BF NE TD MR LY LB IR RU BY GE AM AZ PK IN ET".split()
    for code in codes:
        await live.store.add(ChatSettings(chat), Subscription("country", code, code))
    await live.say(chat, "/unsubscribe")
    screen = last_keyboard_message(live, chat)
    seen = {d for _, d in keyboard(live, chat, screen) if d.startswith("unsub:")}
    [next_page] = [d for _, d in keyboard(live, chat, screen) if d.startswith("pg:")]
    await press(live, chat, screen, next_page)
    seen |= {d for _, d in keyboard(live, chat, screen) if d.startswith("unsub:")}
    assert seen == {f"unsub:country:{c}" for c in codes}


async def test_a_stale_button_gets_a_clear_toast_and_a_fresh_keyboard(live: LiveBot) -> None:
    chat = 1207
    live.fake.add_chat(chat, "private")
    async with live.fake.bot() as bot:  # a keyboard from an older version of the bot
        old = await bot.send_message(
            chat,
            "old",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="sub:town:9")]]),
        )
    await asyncio.sleep(1.0)  # that message was sent around the bot's pacing: keep Telegram's 1 a second
    toast = await press(live, chat, old.message_id, "sub:town:9")
    assert "out of date" in toast["text"] and str(toast.get("show_alert")).lower() == "true"
    assert any(d == "sub:country:AF" for _, d in keyboard(live, chat, old.message_id))
    assert await keys(live, chat) == []


async def test_the_language_filter_accepts_only_languages_the_rules_read(live: LiveBot) -> None:
    chat = 1208
    live.fake.add_chat(chat, "private")
    assert "do not read “zz”" in await live.say(chat, "/subscribe lang zz")
    assert (await live.store.settings(chat)).languages == set()
    await live.say(chat, "/subscribe lang")
    choice = last_keyboard_message(live, chat)
    assert len([d for _, d in keyboard(live, chat, choice) if d.startswith("lang:")]) == 8  # 7 and "all"
    await press(live, chat, choice, "lang:fa")
    assert (await live.store.settings(chat)).languages == {"fa"}
    assert any(t.startswith("✅ ") and d == "lang:fa" for t, d in keyboard(live, chat, choice))
    assert "reported in fa" in live.fake.message(chat, choice)["text"]


def alert(country: str = "AF") -> Alert:
    return Alert(
        kind="alert",
        event_id="e1",
        rule="city-fallen",
        location="Kunduz",
        geonameid=1135689,
        country=country,
        lang="en",
        sources=1,
        independent=1,
    )


async def test_mute_takes_units_and_a_30_minute_mute_expires(live: LiveBot) -> None:
    chat = 1209
    live.fake.add_chat(chat, "private")
    await live.say(chat, "/subscribe Afghanistan")
    assert "Add a unit" in await live.say(chat, "/mute 90")
    assert "Muted until" in await live.say(chat, "/mute 30m")
    now = time.time()
    assert chat not in [c.chat_id for c in await live.store.chats_for(alert(), now=now + 29 * 60)]
    assert chat in [c.chat_id for c in await live.store.chats_for(alert(), now=now + 31 * 60)]


async def test_alerts_go_to_the_topic_they_were_asked_for_in_and_arrive_silently_in_quiet_hours(
    live: LiveBot,
) -> None:
    forum, night_owl, admin = -1009001, 1210, 4242
    live.fake.add_chat(forum, "supergroup", title="Desk", is_forum=True)
    live.fake.set_member_status(forum, admin, "administrator")
    live.fake.add_chat(night_owl, "private")
    reply = await live.say(forum, "/subscribe Afghanistan", user_id=admin, message_thread_id=55)
    assert "now follows Afghanistan" in reply
    assert live.fake.calls("sendMessage")[-1].params.get("message_thread_id") in (55, "55")
    await live.say(night_owl, "/subscribe Afghanistan")
    assert "Asia/Kabul" in await live.say(night_owl, "/timezone Asia/Kabul")
    kabul = datetime.now(ZoneInfo("Asia/Kabul"))
    span = f"{(kabul - timedelta(hours=1)):%H:%M}-{(kabul + timedelta(hours=1)):%H:%M}"
    assert "Quiet hours" in await live.say(night_owl, f"/quiet {span}")

    await asyncio.to_thread(live.replay, SCENARIO)
    await eventually(
        lambda: (
            any(is_mazar_alert(m) for m in live.replies_to(forum) + live.replies_to(night_owl))
            and all(any(is_mazar_alert(m) for m in live.replies_to(c)) for c in (forum, night_owl))
        ),
        timeout=40,
        what="both alerts",
    )
    sent = {
        int(c.params["chat_id"]): c.params
        for c in live.fake.calls("sendMessage")
        if c.status == 200 and "·" in str(c.params.get("text", "")).split("\n")[0]
    }
    assert sent[forum].get("message_thread_id") in (55, "55")
    assert str(sent[forum].get("disable_notification", "false")).lower() == "false"
    assert str(sent[night_owl].get("disable_notification")).lower() == "true"


async def test_a_channels_command_reply_is_deleted_after_a_while(
    live: LiveBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.permissions, "CHANNEL_REPLY_SECONDS", 0.2)
    channel = -1009002
    live.fake.add_chat(channel, "channel", title="Desk alerts")
    live.fake.channel_post(channel, "/subscribe Afghanistan")
    await eventually(lambda: bool(live.fake.calls("deleteMessages")), what="the reply to be deleted")
    assert live.replies_to(channel) == []
    assert await keys(live, channel) == ["country:AF"]
