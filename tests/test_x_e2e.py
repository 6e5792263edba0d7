"""Acceptance: posts of watched accounts on the fake X stream reach a subscribed Telegram chat as one
alert, updated as sources add up, across a dropped connection."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis
from pydantic import SecretStr

from bot.runtime.run import run_bot
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, eventually, streaming_bot_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX

WATCHED = {
    "BilalSarwary": "2001",
    "TOLOnews": "2002",
    "AJEnglish": "2003",
    "AmuTVOnline": "2004",
    "ZabihullahM33": "2005",
}


def scenario() -> list[dict[str, str]]:
    lines = (REPO / "examples" / "mazar-i-sharif.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if json.loads(line)["author"] in WATCHED]


async def test_the_stream_delivers_one_mazar_alert_across_a_dropped_connection(
    redis_url: str, namespace: str, redis_client: aioredis.Redis
) -> None:
    async with FakeTelegram() as telegram, FakeX(keepalive_seconds=0.2) as x:
        for handle, user_id in WATCHED.items():
            x.add_user(user_id, handle)
        telegram.add_chat(100, "private")
        await SubscriptionStore(redis_client, Keys(namespace), 25).add(
            ChatSettings(100), Subscription("country", "AF", "Afghanistan")
        )
        settings = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace)
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis_url, stop))
        try:
            await x.wait_for_stream(timeout=60)
            posts = scenario()
            half = 5  # through Bilal Sarwary's report; the confirmations come after the drop
            for p in posts[:half]:
                x.post(WATCHED[p["author"]], p["text"], lang=p["lang"], created_at=p["created_at"])
            await eventually(
                lambda: any("🇦🇫 Mazar-i-Sharif" in m.split("\n")[0] for m in telegram.messages_to(100)),
                what="the alert",
            )
            x.drop_stream()
            await x.wait_for_stream(connections=2, timeout=30)
            for p in posts[half:]:
                x.post(WATCHED[p["author"]], p["text"], lang=p["lang"], created_at=p["created_at"])
            await eventually(
                lambda: "5 in all" in "".join(telegram.messages_to(100)), timeout=30, what="all five sources"
            )
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
        alerts = [m for m in telegram.messages_to(100) if "🇦🇫" in m.split("\n")[0]]
        assert len(alerts) == 2 and "Sharana" in alerts[0] and "Mazar-i-Sharif" in alerts[1]
        assert "@BilalSarwary" in alerts[1] and "@ZabihullahM33" in alerts[1]
        assert telegram.violations == []
        assert [r["value"] for r in x.rules] == [
            " OR ".join(
                f"from:{h}"
                for h in sorted(
                    [
                        "AJEnglish",
                        "AmuTVOnline",
                        "BilalSarwary",
                        "GeneralStaffUA",
                        "KyivIndependent",
                        "Liveuamap",
                        "MONUSCO",
                        "mod_russia",
                        "TOLOnews",
                        "TOLOnewsDari",
                        "ZabihullahM33",
                    ],
                    key=str.lower,
                )
            )
        ]


async def test_a_refused_x_token_leaves_the_bot_serving_telegram(redis_url: str, namespace: str) -> None:
    async with FakeTelegram() as telegram, FakeX(keepalive_seconds=0.2) as x:
        telegram.add_chat(7, "private")
        settings = streaming_bot_settings(telegram.url, telegram.token, x.url, namespace)
        settings.x_bearer_token = SecretStr("revoked-token-value")
        stop = asyncio.Event()
        running = asyncio.create_task(run_bot(settings, REPO / "rules.yaml", redis_url, stop))
        try:
            await eventually(lambda: bool(telegram.calls("getUpdates")), what="polling")
            telegram.send_user_message(7, "/start")
            await eventually(
                lambda: any("frontwatch" in m for m in telegram.messages_to(7)), what="the reply"
            )
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)
