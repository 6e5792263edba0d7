"""The live bot end to end: the real python-telegram-bot against the fake Bot API, a real Redis, and
`frontwatch replay` in another process feeding the same outbox."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from bot.config import Settings
from bot.runtime.run import run_bot
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, eventually, run_cli
from tests.fakes.telegram_api import FakeTelegram

ADMIN = 777


def is_mazar_alert(message: str) -> bool:
    """An alert (or its edit) about Mazar-i-Sharif: its level line names the country's flag and the city
    (the scenario's one report on Sharana, the same morning, is an alert of its own)."""
    lines = message.replace("<b>", "").splitlines()[:2]  # as sent (HTML) or as shown
    return any("🇦🇫 Mazar-i-Sharif" in line and "·" in line for line in lines)


SCENARIO = REPO / "examples" / "mazar-i-sharif.jsonl"


@dataclass
class LiveBot:
    fake: FakeTelegram
    store: SubscriptionStore
    namespace: str
    redis_url: str

    def replies_to(self, chat_id: int) -> list[str]:
        return self.fake.messages_to(chat_id)

    async def say(self, chat_id: int, text: str, **kwargs: object) -> str:
        """A user writes; returns the bot's newest reply once it came."""
        before = len(self.replies_to(chat_id))
        self.fake.send_user_message(chat_id, text, **kwargs)  # type: ignore[arg-type]
        await eventually(lambda: len(self.replies_to(chat_id)) > before, what=f"a reply to {text!r}")
        return self.replies_to(chat_id)[-1]

    def replay(self, path: Path) -> None:
        result = run_cli(
            "replay",
            "--json",
            "--redis",
            self.redis_url,
            str(path),
            env={"FRONTWATCH_NAMESPACE": self.namespace},
        )
        assert result.returncode == 0, result.stderr


@pytest.fixture
async def live(redis_url: str, namespace: str, tmp_path: Path) -> AsyncIterator[LiveBot]:
    async with FakeTelegram() as fake:
        settings = Settings(
            telegram_bot_token=SecretStr(fake.token),
            telegram_api_base=fake.url,
            admin_ids=[ADMIN],
            frontwatch_namespace=namespace,
            health_port=0,
            _env_file=None,  # type: ignore[call-arg]
        )
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis_url, stop))
        await eventually(lambda: bool(fake.calls("getUpdates")) or running.done(), what="polling to start")
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        try:
            yield LiveBot(fake, SubscriptionStore(client, Keys(namespace), 25), namespace, redis_url)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
            await client.aclose()


async def tap(live: LiveBot, chat_id: int, data: str) -> None:
    keyboard_message = next(s for s in reversed(live.fake.sent) if s.chat_id == chat_id and s.reply_markup)
    before = len(live.fake.calls("answerCallbackQuery"))
    live.fake.press_button(chat_id, keyboard_message.message_id, data)
    await eventually(lambda: len(live.fake.calls("answerCallbackQuery")) > before, what="the button's answer")


async def test_a_subscriber_gets_one_mazar_alert_edited_as_sources_add_up_and_muted_or_blocked_chats_nothing(
    live: LiveBot,
) -> None:
    reader, muted, gone = 100, 101, 102
    for chat in (reader, muted, gone):
        live.fake.add_chat(chat, "private")
        welcome = await live.say(chat, "/start")
        assert "frontwatch" in welcome
        await tap(live, chat, "sub:country:AF")
    await eventually(lambda: bool(live.fake.calls("editMessageText")), what="the keyboard edited in place")
    await eventually(lambda: "now follows Afghanistan" in live.replies_to(gone)[-1], what="the confirmation")
    assert "now follows Afghanistan" in live.replies_to(reader)[-1]
    await live.say(muted, "/mute 2h")
    live.fake.block(gone)

    await asyncio.to_thread(live.replay, SCENARIO)

    def alerts(chat: int) -> list[str]:
        return [m for m in live.replies_to(chat) if is_mazar_alert(m)]

    await eventually(lambda: "7 in all" in "".join(alerts(reader)), timeout=40, what="the last update")
    [alert] = alerts(reader)
    assert alert.startswith("🔴 Confirmed · 🇦🇫 Mazar-i-Sharif, Afghanistan")
    assert "reported taken by the Taliban" in alert and "5 independent sources (7 in all)" in alert
    assert "@BilalSarwary (first report)" in alert and "party to the conflict (Taliban)" in alert
    assert "retweet or quote, not counted" in alert and "copy of an earlier post, not counted" in alert
    assert len(live.fake.calls("editMessageText")) >= 1  # queued updates are coalesced into fewer edits
    assert any(m.startswith("🔴 Confirmed: Mazar-i-Sharif") for m in live.replies_to(reader))
    assert alerts(muted) == []
    assert sum("🇦🇫 Sharana" in m for m in live.replies_to(reader)) == 1, "Sharana's single report"
    assert await live.store.subscriptions(gone) == []
    assert (await live.store.counters()).get("chats_unsubscribed_gone") == 1
    assert live.fake.violations == []


async def test_typed_commands_work_and_garbage_gets_a_helpful_reply(live: LiveBot) -> None:
    chat = 200
    live.fake.add_chat(chat, "private")
    assert "now follows Kunduz (AF)" in await live.say(chat, "/subscribe city Kunduz")
    assert "don't know “Xyzzyville”" in await live.say(chat, "/subscribe Xyzzyville")
    assert "don't know that command" in await live.say(chat, "/frobnicate now")
    assert "Mute for how long" in await live.say(chat, "/mute forever")
    assert "Kunduz (AF)" in await live.say(chat, "/list")
    huge = await live.say(chat, "/subscribe " + "ﷺ\u202e" * 3000)
    assert "don't know" in huge
    assert "only the bot's administrators" in await live.say(chat, "/reload")
    assert "Stopped following Kunduz (AF)" in await live.say(chat, "/unsubscribe Kunduz")


async def test_admins_can_reload_rules_and_see_stats(live: LiveBot) -> None:
    live.fake.add_chat(ADMIN, "private")
    assert "Rules reloaded" in await live.say(ADMIN, "/reload")
    stats = await live.say(ADMIN, "/stats")
    assert "chats following something" in stats and "outbox" in stats


async def test_a_forged_button_is_refused_and_writes_nothing(live: LiveBot) -> None:
    chat = 300
    live.fake.add_chat(chat, "private")
    await live.say(chat, "/start")
    keyboard_message = next(s for s in reversed(live.fake.sent) if s.chat_id == chat and s.reply_markup)
    before = len(live.fake.calls("answerCallbackQuery"))
    live.fake.press_button(chat, keyboard_message.message_id, "sub:country:AF")  # a real one first
    await eventually(lambda: len(live.fake.calls("answerCallbackQuery")) > before, what="an answer")
    await live.store.remove(chat)
    stale = live.fake.press_button  # a forged payload cannot come from our keyboard: send it raw
    with pytest.raises(ValueError):
        stale(chat, keyboard_message.message_id, "sub:country:XX")
    assert await live.store.subscriptions(chat) == []


async def test_in_a_group_only_its_administrators_change_what_it_follows(live: LiveBot) -> None:
    group = -500
    live.fake.add_chat(group, "group", title="Desk")
    refused = await live.say(group, "/subscribe@frontwatch_test_bot Afghanistan", user_id=42)
    assert "only its administrators" in refused
    assert await live.store.subscriptions(group) == []
    live.fake.set_member_status(group, 43, "administrator")
    accepted = await live.say(group, "/subscribe@frontwatch_test_bot Afghanistan", user_id=43)
    assert "now follows Afghanistan" in accepted


async def test_a_group_upgraded_to_a_supergroup_keeps_following_under_its_new_id(live: LiveBot) -> None:
    group, supergroup = -600, -1000600
    live.fake.add_chat(group, "group", title="Desk")
    live.fake.set_member_status(group, 43, "administrator")
    await live.say(group, "/subscribe@frontwatch_test_bot Afghanistan", user_id=43)
    live.fake.upgrade_group(group, supergroup)  # Telegram's service messages reach the bot
    for _ in range(200):
        if await live.store.subscriptions(supergroup):
            break
        await asyncio.sleep(0.05)
    assert await live.store.subscriptions(group) == []
    assert [s.key for s in await live.store.subscriptions(supergroup)] == ["country:AF"]


async def test_run_without_a_token_exits_1_saying_how_to_get_one() -> None:
    result = await asyncio.to_thread(run_cli, "run", env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.returncode == 1
    assert "@BotFather" in result.stderr and "frontwatch demo" in result.stderr
    assert "Traceback" not in result.stderr


async def test_sigterm_stops_the_bot_cleanly(redis_url: str, namespace: str) -> None:
    async with FakeTelegram() as fake:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE": fake.url,
            "FRONTWATCH_NAMESPACE": namespace,
            "LOG_FORMAT": "json",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--redis",
            redis_url,
            "-v",
            env=env,
            cwd=REPO,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        await eventually(lambda: bool(fake.calls("getUpdates")), timeout=60, what="the bot to poll")
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, stderr.decode()
        lines = [
            json.loads(line) for line in stderr.decode().splitlines()
        ]  # LOG_FORMAT=json: one object a line
        assert any("stopping: sources and polling first" in entry["msg"] for entry in lines)
        assert fake.token not in stderr.decode() and fake.token.split(":")[1] not in stderr.decode()
        assert fake.calls("setMyCommands"), "the command menu is published at start"


async def test_the_demo_sends_to_telegram_only_when_asked_and_marks_every_message(
    redis_url: str, namespace: str, redis_client: aioredis.Redis
) -> None:
    async with FakeTelegram() as fake:
        fake.add_chat(900, "private")
        await SubscriptionStore(redis_client, Keys(namespace), 25).add(
            ChatSettings(900), Subscription("all", "*", "all")
        )
        env = {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE": fake.url,
            "FRONTWATCH_NAMESPACE": namespace,
        }
        quiet = await asyncio.to_thread(run_cli, "demo", "--json", "--redis", redis_url, env=env)
        assert quiet.returncode == 0, quiet.stderr
        assert fake.calls("sendMessage") == [], "no Telegram message without --telegram, token or not"
        result = await asyncio.to_thread(
            run_cli, "demo", "--telegram", "--json", "--redis", redis_url, env=env
        )
        assert result.returncode == 0, result.stderr
        messages = fake.messages_to(900)
        assert messages and all(m.startswith("🧪 DEMO — replay of August 2021") for m in messages)
        [alert] = [m for m in messages if is_mazar_alert(m)]
        assert "Mazar-i-Sharif" in alert and "7 in all" in alert


async def test_a_channel_the_bot_administers_can_subscribe_by_posting_a_command(live: LiveBot) -> None:
    channel = -1001234
    live.fake.add_chat(channel, "channel", title="Desk alerts")
    before = len(live.replies_to(channel))
    live.fake.channel_post(channel, "/subscribe Afghanistan")
    await eventually(lambda: len(live.replies_to(channel)) > before, what="the channel reply")
    assert "now follows Afghanistan" in live.replies_to(channel)[-1]
    assert [s.key for s in await live.store.subscriptions(channel)] == ["country:AF"]


async def test_one_chat_flooding_the_bot_does_not_hold_up_another_chats_reply(live: LiveBot) -> None:
    flooder, other = 400, 401
    live.fake.add_chat(flooder, "private")
    live.fake.add_chat(other, "private")
    for _ in range(12):  # each reply to one chat is a second apart (Telegram's per-chat limit)
        live.fake.send_user_message(flooder, "/list")
    await eventually(lambda: bool(live.replies_to(flooder)), what="the flood to be answered")
    live.fake.send_user_message(other, "/help")
    await eventually(lambda: bool(live.replies_to(other)), timeout=30, what="the other chat's reply")
    assert len(live.replies_to(flooder)) < 12, "the other chat did not wait for the whole flood"
    await eventually(lambda: len(live.replies_to(flooder)) == 12, timeout=30, what="every flood reply")


async def test_polling_that_telegram_refuses_once_comes_back_and_commands_are_answered_again(
    live: LiveBot,
) -> None:
    chat = 402
    live.fake.add_chat(chat, "private")
    assert "frontwatch" in await live.say(chat, "/start")
    polls = len(live.fake.calls("getUpdates"))
    live.fake.fail_next("getUpdates", 401)  # python-telegram-bot gives up its polling loop on a 401
    await eventually(lambda: len(live.fake.calls("getUpdates")) > polls, what="the refused poll")
    assert "frontwatch" in await live.say(chat, "/start")


async def test_buttons_under_an_alert_mute_the_place_and_let_an_admin_label_it_for_export(
    live: LiveBot,
) -> None:
    reader = 500
    for chat in (reader, ADMIN):
        live.fake.add_chat(chat, "private")
        await live.store.add(ChatSettings(chat), Subscription("country", "AF", "Afghanistan"))
    await asyncio.to_thread(live.replay, SCENARIO)
    await eventually(
        lambda: all(any(is_mazar_alert(m) for m in live.replies_to(c)) for c in (reader, ADMIN)),
        what="the alert",
    )

    def alert_message(chat: int) -> tuple[int, list[str]]:
        sent = next(s for s in live.fake.sent if s.chat_id == chat and is_mazar_alert(s.text))
        buttons = [
            b.get("callback_data") or b.get("url")
            for row in sent.reply_markup["inline_keyboard"]
            for b in row
        ]
        return sent.message_id, buttons

    message_id, buttons = alert_message(reader)
    assert buttons[0].startswith("https://x.com/BilalSarwary/")  # the first report
    assert "mute:place:1133616:6" in buttons and "unsub:country:AF" in buttons
    assert not any(b.startswith("fb:") for b in buttons), "verdict buttons are for admins only"
    answers = len(live.fake.calls("answerCallbackQuery"))
    live.fake.press_button(reader, message_id, "mute:place:1133616:6")
    await eventually(lambda: len(live.fake.calls("answerCallbackQuery")) > answers, what="the mute toast")
    assert (await live.store.settings(reader)).place_muted(1133616)

    admin_message, admin_buttons = alert_message(ADMIN)
    [bad] = [b for b in admin_buttons if b.endswith(":bad")]
    answers = len(live.fake.calls("answerCallbackQuery"))
    live.fake.press_button(ADMIN, admin_message, bad)
    await eventually(lambda: len(live.fake.calls("answerCallbackQuery")) > answers, what="the verdict toast")
    exported = await asyncio.to_thread(
        run_cli,
        "feedback",
        "--export",
        "-",
        "--redis",
        live.redis_url,
        env={"FRONTWATCH_NAMESPACE": live.namespace},
    )
    assert exported.returncode == 0, exported.stderr
    [line] = exported.stdout.splitlines()
    labelled = json.loads(line)
    assert labelled["label"] is False and labelled["author"] == "BilalSarwary" and labelled["text"]
