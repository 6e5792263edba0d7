"""What a desk sees: independent sources counted, copies folded, a party's claim never read as confirmation.

Posts go through the real pipeline (bundled rules, Redis) and the outbox to the fake Bot API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from bot.outbox.consumer import OutboxConsumer
from bot.posts import Post, PostRef
from bot.rules import Detector
from bot.runtime.pipeline import Pipeline, build_pipeline
from bot.store.keys import Keys
from bot.telegram.app import build_application
from bot.telegram.delivery import TelegramTarget
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import telegram_settings
from tests.fakes.telegram_api import FakeTelegram

T0 = datetime(2021, 8, 8, 12, 0, tzinfo=UTC)
AF = Subscription("country", "AF", "Afghanistan")


@dataclass
class Desk:
    fake: FakeTelegram
    pipeline: Pipeline
    consumer: OutboxConsumer
    store: SubscriptionStore

    async def post(self, post_id: str, author: str, text: str, minutes: int = 0, **extra: object) -> None:
        at = T0 + timedelta(minutes=minutes)
        await self.pipeline.submit(Post(id=post_id, text=text, author=author, created_at=at, **extra))  # type: ignore[arg-type]
        while await self.consumer.pump(block_ms=10):
            pass

    def alert_in(self, chat_id: int) -> str:
        """The chat's alert as it reads now (edits included); replies in its thread come after it."""
        return self.fake.messages_to(chat_id)[0]


@pytest.fixture
async def desk(redis_client: aioredis.Redis, detector: Detector, namespace: str) -> AsyncIterator[Desk]:
    keys = Keys(namespace)
    store = SubscriptionStore(redis_client, keys, 25)
    async with FakeTelegram() as fake:
        for chat_id, min_sources in ((1, 1), (2, 2)):
            fake.add_chat(chat_id, "private")
            await store.add(ChatSettings(chat_id), AF)
            await store.update_settings(chat_id, min_sources=min_sources)
        bot = build_application(telegram_settings(fake.url, fake.token)).bot
        async with bot:
            consumer = OutboxConsumer(
                redis_client, keys, [TelegramTarget(bot, store, redis_client, keys)], "c"
            )
            await consumer.ensure_group()
            yield Desk(fake, build_pipeline(detector.compiled, redis_client, keys), consumer, store)


async def test_a_retweet_and_a_pasted_copy_are_shown_but_count_as_one_source(desk: Desk) -> None:
    report = "Kunduz has fallen to the Taliban, local officials confirm."
    await desk.post("1", "reporter_one", report)
    await desk.post(
        "2", "echo_account", f"RT @reporter_one: {report}", 1, refs=[PostRef(type="retweeted", id="1")]
    )
    await desk.post("3", "aggregator", report, 2)
    alert = desk.alert_in(1)
    assert alert.startswith("🟡 Single report · 🇦🇫 Kunduz, Afghanistan")
    assert "1 independent source (3 in all)" in alert
    assert "retweet or quote, not counted" in alert and "copy of an earlier post, not counted" in alert
    assert desk.fake.messages_to(2) == [], "a chat asking for 2 sources gets nothing from one source"


async def test_two_independent_journalists_make_a_corroborated_alert(desk: Desk) -> None:
    await desk.post("1", "BilalSarwary", "Kunduz has fallen to the Taliban, officials say.")
    await desk.post(
        "2", "KyivIndependent", "Taliban fighters have captured Kunduz city, residents report.", 5
    )
    assert desk.alert_in(1).startswith("🟠 Corroborated: 2 independent sources · 🇦🇫 Kunduz")
    assert desk.alert_in(2).startswith("🟠 Corroborated"), "the 2-source chat now gets it"


async def test_the_taliban_spokesman_alone_is_a_claim_by_the_taliban_never_a_confirmation(desk: Desk) -> None:
    await desk.post("1", "ZabihullahM33", "Kunduz has fallen to the mujahideen of the Islamic Emirate.")
    alert = desk.alert_in(1)
    assert alert.startswith("🟣 Claimed by the Taliban · 🇦🇫 Kunduz")
    assert "Confirmed" not in alert and "party to the conflict (Taliban)" in alert
    await desk.post("2", "BilalSarwary", "Kunduz has fallen to the Taliban, officials say.", 3)
    assert desk.alert_in(1).startswith("🟣 Claimed by the Taliban"), "one journalist more is not confirmation"


async def test_three_independent_reporters_including_a_journalist_confirm_it(desk: Desk) -> None:
    await desk.post("1", "BilalSarwary", "Kunduz has fallen to the Taliban, officials say.")
    await desk.post("2", "AJEnglish", "Taliban fighters have captured Kunduz city, residents report.", 5)
    await desk.post("3", "TOLOnews", "The city of Kunduz fell to the Taliban this afternoon.", 9)
    assert desk.alert_in(1).startswith("🔴 Confirmed · 🇦🇫 Kunduz")
    replies = [m for m in desk.fake.messages_to(1) if m.startswith("🔴 Confirmed: Kunduz")]
    assert len(replies) == 1, "the update that confirms it also replies in the alert's thread"


async def test_two_accounts_of_one_outlet_count_once(desk: Desk) -> None:
    await desk.post("1", "TOLOnews", "Kunduz has fallen to the Taliban, officials say.")
    await desk.post("2", "TOLOnewsDari", "Taliban fighters have captured Kunduz city, residents report.", 5)
    alert = desk.alert_in(1)
    assert "1 independent source (2 in all)" in alert and "same outlet, not counted again" in alert


async def test_a_trusted_denial_after_the_alert_marks_it_contested_and_says_so_in_the_thread(
    desk: Desk,
) -> None:
    await desk.post("1", "BilalSarwary", "Kunduz has fallen to the Taliban, officials say.")
    await desk.post("2", "random_account", "Kunduz has not fallen, do not believe the rumours.", 2)
    assert desk.alert_in(1).startswith("🟡 Single report"), "an unknown account's denial changes nothing"
    await desk.post(
        "3", "KyivIndependent", "Kunduz has not fallen, officials say the army still holds it.", 4
    )
    alert = desk.alert_in(1)
    assert alert.startswith("⚠️ Contested: denied by @KyivIndependent · 🇦🇫 Kunduz")
    assert "DENIES IT" in alert
    [reply] = desk.fake.messages_to(1)[1:]  # the alert's edit is silent: a reply notifies
    assert "@KyivIndependent" in reply and "denies that Kunduz fell" in reply
