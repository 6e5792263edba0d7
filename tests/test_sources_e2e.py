"""Acceptance, per network: the Mazar-i-Sharif scenario posted on that network alone reaches a subscribed
Telegram chat as exactly one alert, across a restart of the bot midway; and a bot with only Bluesky and
RSS accounts and no X token starts and delivers.

The real bot (`run_bot`) runs against the fake Telegram and the network's fake server; Redis is real.
Polling intervals are shortened for the test (users get at least 10 s).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pytest
import redis.asyncio as aioredis
import yaml

from bot.config import Settings
from bot.runtime.run import run_bot
from bot.store.keys import Keys
from bot.telegram.subscriptions import ChatSettings, Subscription, SubscriptionStore
from tests.conftest import REPO, eventually, telegram_settings
from tests.fakes.feeds import FakeFeeds
from tests.fakes.jetstream import BlueskyNetwork, FakeAppView, FakeJetstream
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.tg_preview import FakeTelegramPreview

WATCHED = ["BilalSarwary", "TOLOnews", "AJEnglish", "AmuTVOnline", "ZabihullahM33"]
FAST = 0.3  # seconds between polls in these tests
START = 90.0  # seconds a start may take (rules compiled) on a busy machine


def scenario() -> list[dict[str, Any]]:
    lines = (REPO / "examples" / "mazar-i-sharif.jsonl").read_text(encoding="utf-8").splitlines()
    return [p for p in map(json.loads, lines) if p["author"] in WATCHED]


def rules_watching(tmp_path: Path, accounts: list[str]) -> Path:
    """The bundled rules with one account group: `accounts`."""
    rules = yaml.safe_load((REPO / "rules.yaml").read_text(encoding="utf-8"))
    rules["account_groups"] = {"watched": {"trust": 2, "accounts": accounts}}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Network(Protocol):
    """One network's fake servers, as the scenario needs them."""

    def accounts(self) -> list[str]: ...
    def settings(self) -> dict[str, Any]: ...
    def shown(self, author: str) -> str: ...
    def publish(self, post: dict[str, Any]) -> None: ...
    async def ready(self, run: int) -> None: ...


class Bluesky:
    def __init__(self, stack: AsyncExitStack) -> None:
        self.network = BlueskyNetwork()
        self.dids = {a: self.network.add_account(self.handle(a)) for a in WATCHED}
        self.stack = stack

    async def serve(self) -> None:
        self.stream = await self.stack.enter_async_context(FakeJetstream(self.network))
        self.appview = await self.stack.enter_async_context(FakeAppView(self.network))

    def handle(self, author: str) -> str:
        return f"{author.lower()}.bsky.social"

    def accounts(self) -> list[str]:
        return [f"bsky:{self.handle(a)}" for a in WATCHED]

    def settings(self) -> dict[str, Any]:
        return {"bsky_jetstream_url": [self.stream.ws_url], "bsky_api_base": self.appview.url}

    def shown(self, author: str) -> str:
        return "@" + self.handle(author)

    def publish(self, post: dict[str, Any]) -> None:
        langs = [post["lang"]] if post["lang"] else None
        self.network.post(self.dids[post["author"]], post["text"], langs, post["created_at"])

    async def ready(self, run: int) -> None:
        await self.stream.wait_for_subscriber(connections=run, timeout=START)


class Feeds:
    """Each outlet its own site, one RSS feed each (Atom for one of them)."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack
        self.sites: dict[str, FakeFeeds] = {}

    def kind(self, author: str) -> str:
        return "atom" if author == "AJEnglish" else "rss"

    async def serve(self) -> None:
        for author in WATCHED:
            site = await self.stack.enter_async_context(FakeFeeds())
            site.add_feed(author.lower(), self.kind(author), language=None)
            self.sites[author] = site

    def accounts(self) -> list[str]:
        return [f"rss:{self.sites[a].feed_url(a.lower(), self.kind(a))}" for a in WATCHED]

    def settings(self) -> dict[str, Any]:
        return {"rss_poll_seconds": FAST}

    def shown(self, author: str) -> str:
        return "@" + self.sites[author].url.removeprefix("http://")

    def publish(self, post: dict[str, Any]) -> None:
        author = post["author"]
        self.sites[author].publish(author.lower(), post["text"], "", post["created_at"], self.kind(author))

    async def ready(self, run: int) -> None:
        for author, site in self.sites.items():
            kind = self.kind(author)
            await eventually(
                partial(lambda s, a, k: bool(s.reads(a.lower(), k)), site, author, kind),
                what="a feed read",
                timeout=START,
            )


class Mastodon:
    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack

    async def serve(self) -> None:
        self.server = await self.stack.enter_async_context(FakeMastodon())
        for author in WATCHED:
            self.server.add_account(author)

    def accounts(self) -> list[str]:
        return [f"mastodon:{self.server.profile(a)}" for a in WATCHED]

    def settings(self) -> dict[str, Any]:
        return {"mastodon_poll_seconds": FAST}

    def shown(self, author: str) -> str:
        return f"@{author}@{self.server.url.removeprefix('http://')}"

    def publish(self, post: dict[str, Any]) -> None:
        self.server.post(post["author"], post["text"], post["lang"], post["created_at"])

    async def ready(self, run: int) -> None:
        for author in WATCHED:
            await eventually(
                partial(lambda a: len(self.server.reads(a)) >= run, author),
                what="a timeline read",
                timeout=START,
            )


class TelegramChannels:
    def __init__(self, stack: AsyncExitStack) -> None:
        self.stack = stack

    async def serve(self) -> None:
        self.tme = await self.stack.enter_async_context(FakeTelegramPreview())
        for author in WATCHED:
            self.tme.add_channel(author)

    def accounts(self) -> list[str]:
        return [f"tg:{a}" for a in WATCHED]

    def settings(self) -> dict[str, Any]:
        return {"tg_preview_base": self.tme.url, "tg_poll_seconds": FAST}

    def shown(self, author: str) -> str:
        return "@" + author

    def publish(self, post: dict[str, Any]) -> None:
        self.tme.post(post["author"], post["text"], post["created_at"])

    async def ready(self, run: int) -> None:
        for author in WATCHED:
            await eventually(
                partial(lambda a: len(self.tme.reads(a)) >= run, author), what="a preview read", timeout=START
            )


NETWORKS: dict[str, Callable[[AsyncExitStack], Any]] = {
    "bluesky": Bluesky,
    "mastodon": Mastodon,
    "rss": Feeds,
    "telegram-channels": TelegramChannels,
}


@asynccontextmanager
async def running(settings: Settings, rules: Path, redis_url: str) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(settings, rules, redis_url, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def follow_afghanistan(redis_client: aioredis.Redis, namespace: str, chat_id: int) -> None:
    await SubscriptionStore(redis_client, Keys(namespace), 25).add(
        ChatSettings(chat_id), Subscription("country", "AF", "Afghanistan")
    )


def bot_settings(telegram: FakeTelegram, namespace: str, extra: dict[str, Any]) -> Settings:
    fast = {k: v for k, v in extra.items() if k.endswith("_poll_seconds")}
    settings = telegram_settings(
        telegram.url,
        telegram.token,
        frontwatch_namespace=namespace,
        health_port=0,
        **{k: v for k, v in extra.items() if k not in fast},
    )
    return settings.model_copy(update=fast)  # below the 10 s minimum, for the test only


@pytest.mark.parametrize("name", sorted(NETWORKS))
async def test_the_scenario_on_one_network_alone_raises_one_mazar_alert_across_a_restart(
    name: str, tmp_path: Path, redis_url: str, namespace: str, redis_client: aioredis.Redis
) -> None:
    posts = scenario()
    half = 5  # through Bilal Sarwary's report; the confirmations are posted while the bot is down
    async with FakeTelegram() as telegram, AsyncExitStack() as stack:
        network: Network = NETWORKS[name](stack)
        await network.serve()  # type: ignore[attr-defined]
        telegram.add_chat(100, "private")
        await follow_afghanistan(redis_client, namespace, 100)
        rules = rules_watching(tmp_path, network.accounts())
        settings = bot_settings(telegram, namespace, network.settings())

        def alerts() -> list[str]:  # not the short "confirmed" reply in the alert's thread
            return [m for m in telegram.messages_to(100) if "🇦🇫 Mazar-i-Sharif" in m]

        async with running(settings, rules, redis_url):
            await network.ready(run=1)
            for post in posts[:half]:
                network.publish(post)
            await eventually(lambda: bool(alerts()), timeout=START, what="the alert")
        for post in posts[half:]:
            network.publish(post)
        async with running(settings, rules, redis_url):
            await network.ready(run=2)
            everyone = [network.shown(a) for a in WATCHED]
            try:
                await eventually(lambda: all(who in "".join(alerts()) for who in everyone), timeout=START)
            except AssertionError:
                raise AssertionError(f"not every one of {everyone} in {telegram.messages_to(100)}") from None
    assert len(alerts()) == 1, telegram.messages_to(100)
    assert telegram.violations == []


async def test_a_bot_with_only_bluesky_and_rss_accounts_and_no_x_token_starts_and_delivers(
    tmp_path: Path, redis_url: str, namespace: str, redis_client: aioredis.Redis
) -> None:
    posts = {p["author"]: p for p in scenario() if "fallen" in p["text"] or "سقوط" in p["text"]}
    async with FakeTelegram() as telegram, AsyncExitStack() as stack:
        sky, feeds = Bluesky(stack), Feeds(stack)
        await sky.serve()
        await feeds.serve()
        telegram.add_chat(100, "private")
        await follow_afghanistan(redis_client, namespace, 100)
        rules = rules_watching(tmp_path, [sky.accounts()[0], feeds.accounts()[1]])
        settings = bot_settings(telegram, namespace, {**sky.settings(), **feeds.settings()})
        assert settings.x_bearer_token is None
        async with running(settings, rules, redis_url) as bot:
            await sky.ready(run=1)
            await eventually(
                lambda: bool(feeds.sites["TOLOnews"].reads("tolonews")), timeout=START, what="the feed read"
            )
            sky.publish(posts["BilalSarwary"])
            feeds.publish(posts["TOLOnews"])
            wanted = [sky.shown("BilalSarwary"), feeds.shown("TOLOnews")]
            await eventually(
                lambda: all(w in "".join(telegram.messages_to(100)) for w in wanted) or bot.done(),
                timeout=START,
                what="one alert from both networks",
            )
            assert not bot.done()
        assert len([m for m in telegram.messages_to(100) if "🇦🇫 Mazar-i-Sharif" in m]) == 1
