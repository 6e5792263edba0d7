"""Delivering alerts to Telegram through the real python-telegram-bot, faults included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bot.outbox.alert import Alert, Source
from bot.outbox.consumer import OutboxConsumer
from bot.posts import Post
from bot.rules import Detector, compile_rules, load_rules
from bot.runtime.pipeline import build_pipeline
from bot.store.keys import Keys
from bot.telegram.app import build_application
from bot.telegram.delivery import DeliveryIncomplete, TelegramTarget
from bot.telegram.limits import PacedRateLimiter
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, telegram_settings
from tests.fakes.telegram_api import FakeTelegram

AF = Subscription("country", "AF", "Afghanistan")


def alert(
    kind: str = "alert",
    sources: int = 1,
    author: str = "BilalSarwary",
    trust: int = 2,
    text: str = "Mazar-i-Sharif has fallen.",
    **kw: object,
) -> Alert:
    """An outbox entry with `sources` independent journalists, the newest of trust `trust`."""
    listed = [
        Source(
            author=f"{author}{i}" if i else author,
            trust=trust if i == sources - 1 else 2,
            role="journalist",
            text=text,
            at=1628955720 + i,
            url=f"https://x.com/{author}/status/{i}",
            post_id=str(i),
            lang="en",
        )
        for i in range(sources)
    ]
    return Alert.model_validate(
        {
            "kind": kind,
            "independent": sources,
            "event_id": "city-fallen:1133616:1",
            "rule": "city-fallen",
            "location": "Mazar-i-Sharif",
            "geonameid": 1133616,
            "country": "AF",
            "lang": "en",
            "sources": sources,
            "evidence": ["has fallen", "Mazari Sharif"],
            "sources_list": [s.model_dump(by_alias=True) for s in listed],
            **kw,
        }
    )


@dataclass
class Rig:
    fake: FakeTelegram
    target: TelegramTarget
    store: SubscriptionStore


@pytest.fixture
async def rig(redis_client: aioredis.Redis, namespace: str) -> AsyncIterator[Rig]:
    keys = Keys(namespace)
    store = SubscriptionStore(redis_client, keys, 25)
    async with FakeTelegram() as fake:
        bot = build_application(telegram_settings(fake.url, fake.token)).bot
        async with bot:
            yield Rig(fake, TelegramTarget(bot, store, redis_client, keys), store)


async def subscribe(rig: Rig, chat_id: int, chat_type: str = "private") -> None:
    rig.fake.add_chat(chat_id, chat_type)
    await rig.store.add(ChatSettings(chat_id, chat_type), AF)


async def test_an_update_edits_the_alert_message_in_place(rig: Rig) -> None:
    await subscribe(rig, 1)
    await rig.target.deliver("1-0", alert())
    await rig.target.deliver("2-0", alert("update", sources=2))
    [message] = rig.fake.messages_to(1)
    assert "2 independent sources" in message and message.startswith("🟠 Corroborated")
    assert [s.method for s in rig.fake.sent] == ["sendMessage", "editMessageText"]


async def test_the_update_that_confirms_an_event_also_replies_in_the_thread(rig: Rig) -> None:
    await subscribe(rig, 1)
    await rig.target.deliver("1-0", alert())
    await rig.target.deliver("2-0", alert("update", sources=2))
    assert [s.method for s in rig.fake.sent] == ["sendMessage", "editMessageText"]  # corroborated: no reply
    await rig.target.deliver("3-0", alert("update", sources=3))  # a third independent journalist
    reply = rig.fake.sent[-1]
    assert reply.reply_to_message_id == rig.fake.sent[0].message_id
    assert "Confirmed" in reply.text and "3 independent sources" in reply.text


async def test_a_429_is_waited_out_and_the_alert_still_arrives(rig: Rig) -> None:
    await subscribe(rig, 1)
    rig.fake.fail_next("sendMessage", 429, retry_after=1)
    await rig.target.deliver("1-0", alert())
    assert len(rig.fake.messages_to(1)) == 1 and rig.fake.count_429 == 1


async def test_server_errors_are_retried_then_left_for_the_next_attempt(rig: Rig) -> None:
    await subscribe(rig, 1)
    rig.fake.fail_next("sendMessage", 502)
    await rig.target.deliver("1-0", alert())  # one 502, then success on the retry
    assert len(rig.fake.messages_to(1)) == 1
    await subscribe(rig, 2)
    rig.fake.fail_next("sendMessage", 500, count=10)
    with pytest.raises(DeliveryIncomplete):
        await rig.target.deliver("2-0", alert(event_id="other:1"))
    await rig.target.deliver("2-0", alert(event_id="other:1"))  # the outbox retries: chat 1 is not sent twice
    assert len(rig.fake.messages_to(2)) == 1 and len(rig.fake.messages_to(1)) == 2


async def test_an_answer_that_never_ends_is_given_up_and_the_alert_still_arrives_once(rig: Rig) -> None:
    """A stalled proxy: headers, then a blank every half second, never a body. httpx's read timeout
    never fires on it; the limiter's deadline does, and the delivery sends again."""
    limiter = rig.target.bot.rate_limiter
    assert isinstance(limiter, PacedRateLimiter)
    limiter.request_deadline = 1.5
    await subscribe(rig, 1)
    rig.fake.stall_next("sendMessage")
    await asyncio.wait_for(rig.target.deliver("1-0", alert()), 20)
    assert len(rig.fake.messages_to(1)) == 1
    assert [c.status for c in rig.fake.calls("sendMessage")] == [0, 200]


async def test_a_chat_that_blocked_the_bot_is_unsubscribed_and_counted(rig: Rig) -> None:
    await subscribe(rig, 1)
    await subscribe(rig, 2)
    rig.fake.block(2)
    await rig.target.deliver("1-0", alert())
    assert await rig.store.subscriptions(2) == []
    assert (await rig.store.counters())["chats_unsubscribed_gone"] == 1
    assert len(rig.fake.messages_to(1)) == 1


async def test_post_text_is_escaped_and_a_huge_alert_is_trimmed_to_fit(rig: Rig) -> None:
    await subscribe(rig, 1)
    hostile = alert(sources=60, author="<b>x</b>&", evidence=["<script>"], text="<script> has fallen")
    await rig.target.deliver("1-0", hostile)
    [message] = rig.fake.messages_to(1)
    assert len(message) <= 4096
    assert "«<script> has fallen»" in message and "@<b>x</b>&" in message  # text, not parsed as tags
    assert "more" in message


async def test_an_alert_with_40_sources_keeps_the_first_report_and_the_newest(rig: Rig) -> None:
    await subscribe(rig, 1)
    await rig.target.deliver("1-0", alert(sources=40))
    [message] = rig.fake.messages_to(1)
    assert "@BilalSarwary (first report)" in message  # the first report is never dropped
    assert "@BilalSarwary39" in message and "+ " in message and " more" in message


async def test_alerts_to_a_group_keep_telegrams_20_a_minute_group_limit(
    redis_client: aioredis.Redis, namespace: str
) -> None:
    """25 alerts to one group: the fake's clock and the limiter both run 30x fast, so the 20-a-minute
    window is checked in about two seconds. Without the group limit, the fake counts violations."""
    speedup = 30.0
    start = time.monotonic()
    fast_clock = lambda: start + (time.monotonic() - start) * speedup  # noqa: E731
    keys = Keys(namespace)
    store = SubscriptionStore(redis_client, keys, 25)
    async with FakeTelegram(overall_per_second=None, private_chat_per_second=None, clock=fast_clock) as fake:
        fake.add_chat(-100, "supergroup")
        await store.add(ChatSettings(-100, "supergroup"), AF)
        bot = ExtBot(
            fake.token,
            base_url=fake.base_url,
            rate_limiter=PacedRateLimiter(speedup=speedup),
            defaults=Defaults(parse_mode=ParseMode.HTML),
        )
        async with bot:
            target = TelegramTarget(bot, store, redis_client, keys)
            for n in range(25):
                await target.deliver(f"{n}-0", alert(event_id=f"e:{n}"))
        assert len(fake.messages_to(-100)) == 25
        assert fake.violations == []
        assert fake.count_429 == 0


async def test_updates_queued_together_become_one_edit(
    rig: Rig, redis_client: aioredis.Redis, namespace: str
) -> None:

    await subscribe(rig, 1)
    detector = Detector(compile_rules(load_rules(REPO / "rules.yaml")))
    keys = Keys(namespace)
    pipeline = build_pipeline(detector.compiled, redis_client, keys)
    dispatcher = OutboxConsumer(redis_client, keys, [rig.target], "one")
    await dispatcher.ensure_group()
    for n in range(6):
        await pipeline.submit(Post(id=str(n), text="Kunduz has fallen.", author=f"reporter{n}"))
    await dispatcher.pump(block_ms=10)
    assert [s.method for s in rig.fake.sent] == ["sendMessage", "editMessageText"]
    assert "6 in all" in rig.fake.messages_to(1)[0]  # six authors, one text: 1 independent
    assert await dispatcher.drained()


async def test_a_group_upgraded_to_a_supergroup_keeps_its_subscriptions_and_gets_the_alert_there(
    rig: Rig,
) -> None:
    await subscribe(rig, -5, "group")
    await rig.store.mute_place(-5, 1135689, until=time.time() + 3600)  # a mute set before the upgrade
    await rig.store.update_settings(-5, min_sources=1, quiet="22:00-07:00")
    rig.fake.migrate_chat(-5, -1005)
    await rig.target.deliver("1-0", alert())
    assert len(rig.fake.messages_to(-1005)) == 1
    assert [s.key for s in await rig.store.subscriptions(-1005)] == ["country:AF"]
    assert await rig.store.subscriptions(-5) == []
    moved = await rig.store.settings(-1005)
    assert moved.chat_type == "supergroup" and moved.quiet == "22:00-07:00"
    assert moved.place_muted(1135689)
    await rig.target.deliver("2-0", alert("update", sources=2))  # the next entry finds the new id at once
    [message] = rig.fake.messages_to(-1005)
    assert "2 independent sources" in message
    assert (await rig.store.counters()).get("chats_unsubscribed_gone", 0) == 0
