"""Telegram delivery against the fake Bot API server enforcing Telegram's limits (tests/fakes).

    python bench/telegram_fanout.py [--chats 1000] [--latency-posts 20]

- Fan-out of one alert to N subscribed private chats: wall time against the limit-imposed minimum
  (N / 30 s at 30 messages a second), and how many 429s and limit violations the server saw.
  Target: within 10% of the minimum, zero 429s.
- Latency from a post entering the pipeline to the server receiving sendMessage for a single
  subscriber, p50 and p99 (posts spaced 1.1 s apart, the per-chat limit). Targets: 100 ms, 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis.asyncio as aioredis  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from telegram.ext import ExtBot  # noqa: E402

from bench.embedded_redis import embedded_client  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.outbox.alert import Alert  # noqa: E402
from bot.outbox.consumer import OutboxConsumer  # noqa: E402
from bot.posts import Post  # noqa: E402
from bot.rules import Detector, compile_rules, load_rules  # noqa: E402
from bot.runtime.pipeline import build_pipeline  # noqa: E402
from bot.store.keys import Keys  # noqa: E402
from bot.telegram.app import build_application  # noqa: E402
from bot.telegram.delivery import TelegramTarget  # noqa: E402
from bot.telegram.limits import OVERALL_PER_SECOND  # noqa: E402
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

AF = Subscription("country", "AF", "Afghanistan")


def bot_for(fake: FakeTelegram) -> ExtBot[int]:
    """The bot `frontwatch run` sends with (same builder: limits, defaults), on the fake server."""
    settings = Settings(
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_base=fake.url,
        _env_file=None,
    )
    return build_application(settings).bot


async def fan_out(client: aioredis.Redis, chats: int) -> tuple[float, int, int]:
    keys = Keys("bench-fanout:")
    store = SubscriptionStore(client, keys, 25)
    async with FakeTelegram() as fake:
        for chat_id in range(1, chats + 1):
            fake.add_chat(chat_id, "private")
            await store.add(ChatSettings(chat_id), AF)
        bot = bot_for(fake)
        async with bot:
            target = TelegramTarget(bot, store, client, keys)
            alert = Alert.model_validate(
                {
                    "kind": "alert",
                    "event_id": "bench:1",
                    "rule": "city-fallen",
                    "location": "Kunduz",
                    "geonameid": 1135689,
                    "country": "AF",
                    "lang": "en",
                    "sources": 1,
                    "independent": 1,
                }
            )
            start = time.perf_counter()
            await target.deliver("0-1", alert)
            elapsed = time.perf_counter() - start
        delivered = len({s.chat_id for s in fake.sent})
        assert delivered == chats, f"only {delivered} of {chats} chats got the alert"
        return elapsed, fake.count_429, len(fake.violations)


async def latency(client: aioredis.Redis, detector: Detector, posts: int) -> list[float]:
    keys = Keys("bench-tg-latency:")
    store = SubscriptionStore(client, keys, 25)
    await store.add(ChatSettings(1), Subscription("all", "*", "everything"))
    async with FakeTelegram() as fake:
        fake.add_chat(1, "private")
        bot = bot_for(fake)
        async with bot:
            pipeline = build_pipeline(detector.compiled, client, keys)
            dispatcher = OutboxConsumer(client, keys, [TelegramTarget(bot, store, client, keys)], "bench")
            await dispatcher.ensure_group(start="$")
            stop = asyncio.Event()
            running = asyncio.create_task(dispatcher.run(stop))
            cities = ["Kunduz", "Taloqan", "Ghazni", "Herat", "Kandahar", "Zaranj", "Farah", "Faizabad"]
            submitted = []
            for i in range(posts):
                submitted.append(time.monotonic())
                city = cities[i % len(cities)]
                await pipeline.submit(Post(id=f"p{i}", text=f"{city} has fallen.", author=f"reporter{i}"))
                await asyncio.sleep(1.1)
            deadline = time.monotonic() + 30
            while len(fake.calls("sendMessage")) + len(fake.calls("editMessageText")) < posts:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.01)
            stop.set()
            await running
        arrivals = [c.time for c in fake.requests if c.method in ("sendMessage", "editMessageText")]
        return sorted((a - s) * 1000 for s, a in zip(submitted, arrivals, strict=False))


async def main_async(args: argparse.Namespace) -> None:
    detector = Detector(compile_rules(load_rules(REPO / "rules.yaml")))
    async with embedded_client() as client:
        elapsed, got_429, violations = await fan_out(client, args.chats)
        lat = await latency(client, detector, args.latency_posts)
    minimum = args.chats / OVERALL_PER_SECOND
    print(f"fan-out of one alert to {args.chats:,} chats: {elapsed:.1f} s; the limits allow {minimum:.1f} s")
    print(f"  {elapsed / minimum:.2f}x the minimum; 429 responses: {got_429}; limit violations: {violations}")
    p50, p99 = statistics.median(lat), lat[max(0, int(len(lat) * 0.99) - 1)]
    print(
        f"latency post -> sendMessage, one subscriber, {len(lat)} alerts: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--latency-posts", type=int, default=20)
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
