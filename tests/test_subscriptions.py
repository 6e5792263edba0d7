"""What a chat follows, and which chats an alert reaches (real Redis)."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from bot.outbox.alert import Alert
from bot.store.keys import Keys
from bot.telegram.subscriptions import Added, ChatSettings, Subscription, SubscriptionStore
from handlers.parsing import Refused, SettingChange, clean, parse_button, parse_duration, parse_subscribe
from handlers.services import Services

AF = Subscription("country", "AF", "Afghanistan")


def alert(country: str = "AF", geonameid: int = 1135689, sources: int = 1, lang: str = "en") -> Alert:
    return Alert(
        kind="alert",
        event_id="e1",
        rule="city-fallen",
        location="Kunduz",
        geonameid=geonameid,
        country=country,
        lang=lang,
        sources=sources,
        independent=sources,
    )


@pytest.fixture
def store(redis_client: aioredis.Redis, namespace: str) -> SubscriptionStore:
    return SubscriptionStore(redis_client, Keys(namespace), limit_per_chat=3)


async def test_a_chat_following_a_country_gets_its_alerts_and_not_others(store: SubscriptionStore) -> None:
    assert await store.add(ChatSettings(1), AF) is Added.ADDED
    assert [c.chat_id for c in await store.chats_for(alert("AF"))] == [1]
    assert await store.chats_for(alert("SY", geonameid=170063)) == []


async def test_following_the_same_thing_twice_says_so_and_the_limit_is_enforced(
    store: SubscriptionStore,
) -> None:
    chat = ChatSettings(2)
    assert await store.add(chat, AF) is Added.ADDED
    assert await store.add(chat, AF) is Added.ALREADY
    await store.add(chat, Subscription("country", "SY", "Syria"))
    await store.add(chat, Subscription("country", "UA", "Ukraine"))
    assert await store.add(chat, Subscription("country", "SD", "Sudan")) is Added.LIMIT
    assert len(await store.subscriptions(2)) == 3


async def test_muted_chats_language_filters_and_min_sources_narrow_the_fan_out(
    store: SubscriptionStore,
) -> None:
    for chat_id in (10, 11, 12, 13):
        await store.add(ChatSettings(chat_id), AF)
    await store.update_settings(11, muted_until=time.time() + 3600)
    await store.update_settings(12, languages="fa,ps")
    await store.update_settings(13, min_sources=2)
    assert [c.chat_id for c in await store.chats_for(alert(sources=1))] == [10]
    assert [c.chat_id for c in await store.chats_for(alert(sources=2, lang="fa"))] == [10, 12, 13]


async def test_a_chat_that_is_gone_is_forgotten_entirely(store: SubscriptionStore) -> None:
    await store.add(ChatSettings(20), AF)
    await store.add(ChatSettings(20), Subscription("all", "*", "everything"))
    await store.forget_chat(20)
    assert await store.subscriptions(20) == []
    assert await store.chats_for(alert()) == []
    assert await store.count_chats() == 0


def services() -> Services:
    async def nothing() -> str:
        return ""

    async def no_health() -> dict[str, str]:
        return {}

    places = {"kunduz": (1135689, "Kunduz", "AF")}
    wired = Services()
    wired.wire(
        store=None,  # type: ignore[arg-type]  # parsing never touches the store
        feedback=None,  # type: ignore[arg-type]
        admin_ids=frozenset({1}),
        rule_ids=lambda: ["city-fallen"],
        countries={"AF": "Afghanistan", "SY": "Syria"},
        focus_countries=lambda: ["AF", "SY"],
        find_place=lambda name: places.get(name.strip().lower()),
        reload_rules=nothing,
        health=no_health,
    )
    return wired


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["AF"], "country:AF"),
        (["afghanistan"], "country:AF"),
        (["country", "sy"], "country:SY"),
        (["city", "Kunduz"], "place:1135689"),
        (["Kunduz"], "place:1135689"),
        (["all"], "all:*"),
        (["rule", "city-fallen"], "rule:city-fallen"),
    ],
)
def test_typed_subscriptions_are_understood(args: list[str], expected: str) -> None:
    parsed = parse_subscribe(args, services())
    assert isinstance(parsed, Subscription) and parsed.key == expected


def test_settings_are_typed_as_subscribe_arguments_too() -> None:
    assert parse_subscribe(["lang", "fa,", "PS"], services()) == SettingChange(
        "languages", "fa,ps", "alerts reported in fa, ps by any source"
    )
    assert parse_subscribe(["min_sources", "2"], services()).value == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        (["Atlantis"], "I don't know “Atlantis” as a country or a city"),
        (["rule", "nope"], "There is no rule “nope”"),
        (["min_sources", "-3"], "a number from 1 to 20"),
        (["lang", "english"], "“english” is not a language code"),
        (["city"], "Which city?"),
    ],
)
def test_garbage_arguments_get_a_reply_that_says_what_is_wrong(args: list[str], reply: str) -> None:
    with pytest.raises(Refused, match=reply):
        parse_subscribe(args, services())


def test_odd_unicode_and_huge_arguments_are_cleaned_and_trimmed() -> None:
    assert clean("\u202eAF\u200b\x00 ") == "AF"
    assert len(clean("x" * 10_000)) == 120
    with pytest.raises(Refused):
        parse_subscribe(["🇦🇫" * 5000], services())


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1d", 86400), ("6 h", 21600)])
def test_mute_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["forever", "0m", "90d", "-1h", "2 weeks", "90"])
def test_unusable_mute_durations_are_refused(text: str) -> None:
    with pytest.raises(Refused):
        parse_duration(text)


@pytest.mark.parametrize(
    "data", ["sub:country:XX", "sub:rule:../../etc", "hack", "sub:place:1", "unsub:all:x", ""]
)
def test_stale_or_forged_buttons_are_refused(data: str) -> None:
    with pytest.raises(Refused, match="no longer valid"):
        parse_button(data, services())
