"""Editing rules.yaml while the bot runs: a good edit changes what matches within seconds, a broken
edit keeps the old rules and the admins get its problems with line numbers."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import redis.asyncio as aioredis

from bot.runtime.run import run_bot
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, eventually, streaming_bot_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX

ADMIN, READER = 4242, 100


async def test_rules_edits_take_effect_while_running_and_broken_edits_are_reported(
    redis_url: str, namespace: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copy(REPO / "rules.yaml", rules)
    async with FakeTelegram() as telegram, FakeX(keepalive_seconds=0.2) as x:
        x.add_user("2001", "BilalSarwary")
        for chat in (ADMIN, READER):
            telegram.add_chat(chat, "private")
        await SubscriptionStore(redis_client, Keys(namespace), 25).add(
            ChatSettings(READER), Subscription("all", "*", "all")
        )
        settings = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace, admin_ids=[ADMIN])
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, rules, redis_url, stop))
        try:
            await x.wait_for_stream(timeout=60)
            x.post("2001", "Kunduz has gone quiet, the governor's office is empty.")
            await asyncio.sleep(1.0)
            assert telegram.messages_to(READER) == []

            text = rules.read_text(encoding="utf-8")
            head, rule, rest = text.partition("- id: city-fallen")
            edited = head + rule + rest.replace('en: ["', 'en: ["{place} has gone quiet", "', 1)
            assert edited != text, "the bundled city-fallen rule's English triggers moved: update this test"
            rules.write_text(edited, encoding="utf-8")
            await eventually(
                lambda: any("rules.yaml reloaded" in m for m in telegram.messages_to(ADMIN)),
                what="reload notice",
            )
            x.post("2001", "Taloqan has gone quiet as well, fighters in the streets.")
            await eventually(
                lambda: any("Taloqan" in m for m in telegram.messages_to(READER)), what="the new rule's alert"
            )

            rules.write_text("rules:\n  - id: city-fallen\n    triggers: [oops\n", encoding="utf-8")
            await eventually(
                lambda: any("has problems" in m for m in telegram.messages_to(ADMIN)), what="problems notice"
            )
            problems = next(m for m in telegram.messages_to(ADMIN) if "has problems" in m)
            assert f"{rules}:4" in problems and "not valid YAML" in problems
            x.post("2001", "Sheberghan has gone quiet; the city is in Taliban hands.")
            await eventually(
                lambda: any("Shibirghān" in m or "Sheberghan" in m for m in telegram.messages_to(READER)),
                what="an alert under the old rules",
            )
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
