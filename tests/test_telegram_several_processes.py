"""Several processes sending with one bot token: Telegram's limits are kept together (counted in
Redis), and an event stays one message per chat whichever process delivers which of its entries.
Each "process" here is its own python-telegram-bot Bot, rate limiter and target, sharing one Redis
and the fake Bot API, which answers 429 past Telegram's limits and records each violation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bot.store.keys import Keys
from bot.telegram.delivery import TelegramTarget
from bot.telegram.limits import PacedRateLimiter, RedisPace
from bot.telegram.subscriptions import ChatSettings, SubscriptionStore
from tests.conftest import within
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_delivery import AF, alert

CHATS = 40
PROCESSES = 3


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    # Three bots and the fake share one event loop, and the suite shares two cores: a message
    # admitted by the limiter reaches the fake up to ~0.15 s after its neighbours, which the fake's
    # sliding window must not count as Telegram's limit broken (the loopback default is 0.05 s).
    async with FakeTelegram(jitter_tolerance=0.15) as server:
        yield server


@contextlib.asynccontextmanager
async def processes(
    fake: FakeTelegram, client: aioredis.Redis, keys: Keys, shared: bool
) -> AsyncIterator[list[TelegramTarget]]:
    """Three senders on one token: each its own Bot and rate limiter (counting in Redis when shared)."""
    bots = []
    for _ in range(PROCESSES):
        limiter = PacedRateLimiter()
        if shared:
            limiter.share(RedisPace(client, keys))
        bots.append(
            ExtBot(
                fake.token,
                base_url=fake.base_url,
                rate_limiter=limiter,
                defaults=Defaults(parse_mode=ParseMode.HTML),
            )
        )
    store = SubscriptionStore(client, keys, 25)
    async with contextlib.AsyncExitStack() as stack:
        for bot in bots:
            await stack.enter_async_context(bot)
        yield [TelegramTarget(bot, store, client, keys) for bot in bots]


async def subscribe_chats(fake: FakeTelegram, client: aioredis.Redis, keys: Keys) -> None:
    store = SubscriptionStore(client, keys, 25)
    for chat in range(1, CHATS + 1):
        fake.add_chat(chat, "private")
        await store.add(ChatSettings(chat), AF)


async def three_events_at_once(fake: FakeTelegram, client: aioredis.Redis, keys: Keys, shared: bool) -> None:
    async with processes(fake, client, keys, shared) as senders:
        sending = asyncio.gather(  # a delivery left incomplete by 429s is the failure the test looks for
            *(
                target.deliver(f"{n + 1}-0", alert(event_id=f"city-fallen:{n}:1"))
                for n, target in enumerate(senders)
            ),
            return_exceptions=not shared,
        )
        await within(sending, 90, "three processes sending 120 messages")


async def test_three_processes_sending_at_once_stay_within_the_tokens_limits(
    fake: FakeTelegram, redis_client: aioredis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    await subscribe_chats(fake, redis_client, keys)
    await three_events_at_once(fake, redis_client, keys, shared=True)
    assert all(len(fake.messages_to(chat)) == PROCESSES for chat in range(1, CHATS + 1))
    assert fake.violations == [] and fake.count_429 == 0


async def test_without_shared_limits_the_same_sends_draw_429s(
    fake: FakeTelegram, redis_client: aioredis.Redis, namespace: str
) -> None:
    """The check above can fail: each process counting for itself exceeds the token's limits."""
    keys = Keys(namespace)
    await subscribe_chats(fake, redis_client, keys)
    await three_events_at_once(fake, redis_client, keys, shared=False)
    assert fake.violations and fake.count_429 > 0


async def test_an_update_taken_by_another_process_edits_the_alert_instead_of_a_second_message(
    fake: FakeTelegram, redis_client: aioredis.Redis, namespace: str
) -> None:
    """Process A fans the alert out to 40 chats (over a second, at one token's pace) while process B
    takes the event's update at once: no chat gets two messages, and every chat ends on the update."""
    keys = Keys(namespace)
    await subscribe_chats(fake, redis_client, keys)
    async with processes(fake, redis_client, keys, shared=True) as (a, b, _):
        alerting = asyncio.create_task(a.deliver("1-0", alert()))
        await asyncio.sleep(0.3)  # A has reached some chats, not all
        await b.deliver("2-0", alert("update", sources=2))
        await alerting
    for chat in range(1, CHATS + 1):
        [message] = fake.messages_to(chat)
        assert "2 independent sources" in message, chat


async def test_an_older_entry_arriving_late_never_overwrites_a_newer_one(
    fake: FakeTelegram, redis_client: aioredis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    await subscribe_chats(fake, redis_client, keys)
    async with processes(fake, redis_client, keys, shared=True) as (a, b, _):
        await b.deliver("2-0", alert("update", sources=2))  # the update went first
        await a.deliver("1-0", alert())  # the alert's late delivery: skipped, already said
    assert all(len(fake.messages_to(chat)) == 1 for chat in range(1, CHATS + 1))
    assert "2 independent sources" in fake.messages_to(1)[0]
    assert [s.method for s in fake.sent].count("editMessageText") == 0


async def test_an_entry_delivered_again_after_a_crash_is_not_sent_twice(
    fake: FakeTelegram, redis_client: aioredis.Redis, namespace: str
) -> None:
    keys = Keys(namespace)
    await subscribe_chats(fake, redis_client, keys)
    async with processes(fake, redis_client, keys, shared=True) as (a, b, _):
        await a.deliver("1-0", alert())
        # A died before marking its deliveries sent: the marks expired, B takes the entry again.
        await redis_client.delete(*[keys.delivery("1-0", f"telegram:{c}") for c in range(1, CHATS + 1)])
        await b.deliver("1-0", alert())
    assert all(len(fake.messages_to(chat)) == 1 for chat in range(1, CHATS + 1))
    assert len(fake.sent) == CHATS
