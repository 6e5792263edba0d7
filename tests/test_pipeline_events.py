"""Dedup and events on a real Redis: one alert per real-world event, updates as sources add up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from bot.outbox.alert import Alert
from bot.posts import Post, PostRef
from bot.rules import Detector
from bot.store.events import EventRecorder, speakers_from
from bot.store.keys import Keys

KUNDUZ = "The city of Kunduz has fallen to the Taliban."
T0 = datetime(2021, 8, 8, 12, 0, tzinfo=UTC)


def post(
    post_id: str, author: str, at: datetime = T0, text: str = KUNDUZ, refs: tuple[PostRef, ...] = ()
) -> Post:
    return Post(
        id=post_id,
        text=text,
        author=author,
        created_at=at,
        refs=refs,
        url=f"https://x.com/{author}/status/{post_id}",
    )


def recorder(
    client: aioredis.Redis, detector: Detector, namespace: str, min_sources: int = 1, window_minutes: int = 60
) -> EventRecorder:
    rule = detector.compiled.source.rules[0].model_copy(
        update={"min_sources": min_sources, "window_minutes": window_minutes}
    )
    return EventRecorder(client, {rule.id: rule}, speakers_from(detector.compiled.source), Keys(namespace))


async def outbox(client: aioredis.Redis, namespace: str) -> list[Alert]:
    return [Alert.from_stream(fields) for _, fields in await client.xrange(Keys(namespace).outbox())]


async def record(rec: EventRecorder, detector: Detector, p: Post) -> str:
    return (await rec.record(p, detector.detect(p))).status


async def test_the_same_post_from_two_listeners_raises_one_alert(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace)
    assert await record(rec, detector, post("1", "reporter_a")) == "recorded"
    assert await record(rec, detector, post("1", "reporter_a")) == "duplicate"
    assert [a.kind for a in await outbox(redis_client, namespace)] == ["alert"]


async def test_a_retweet_adds_a_source_not_an_alert(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace)
    await record(rec, detector, post("1", "reporter_a"))
    retweet = post(
        "2",
        "desk_b",
        T0 + timedelta(minutes=2),
        f"RT @reporter_a: {KUNDUZ}",
        (PostRef(type="retweeted", id="1"),),
    )
    await record(rec, detector, retweet)
    alerts = await outbox(redis_client, namespace)
    assert [(a.kind, a.sources) for a in alerts] == [("alert", 1), ("update", 2)]
    assert alerts[0].event_id == alerts[1].event_id
    assert alerts[1].post_ids == ["1", "2"]


async def test_copy_pasted_report_adds_a_source_not_an_alert(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace)
    await record(rec, detector, post("1", "reporter_a"))
    pasted = post(
        "2",
        "aggregator",
        T0 + timedelta(minutes=5),
        "THE CITY OF KUNDUZ HAS FALLEN TO THE TALIBAN https://t.co/x",
    )
    await record(rec, detector, pasted)
    alerts = await outbox(redis_client, namespace)
    assert [a.kind for a in alerts] == ["alert", "update"]
    assert [s.copy_of_earlier for s in alerts[1].sources_list] == [False, True]


async def test_the_same_author_reporting_again_sends_nothing_new(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace)
    await record(rec, detector, post("1", "reporter_a"))
    await record(
        rec, detector, post("2", "reporter_a", T0 + timedelta(minutes=9), "Kunduz has fallen, I repeat.")
    )
    assert [a.kind for a in await outbox(redis_client, namespace)] == ["alert"]


async def test_reports_inside_the_window_join_the_event_and_later_ones_open_a_new_one(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace, window_minutes=60)
    await record(rec, detector, post("1", "a", T0, f"{KUNDUZ} One."))
    await record(rec, detector, post("2", "b", T0 + timedelta(minutes=60), f"{KUNDUZ} Two."))  # same event
    await record(rec, detector, post("3", "c", T0 + timedelta(minutes=121), f"{KUNDUZ} Three."))  # a new one
    alerts = await outbox(redis_client, namespace)
    assert [a.kind for a in alerts] == ["alert", "update", "alert"]
    assert alerts[0].event_id == alerts[1].event_id != alerts[2].event_id


async def test_min_sources_holds_the_first_alert_until_enough_authors_report(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace, min_sources=2)
    await record(rec, detector, post("1", "a", T0, "Kunduz has fallen to the Taliban."))
    assert await outbox(redis_client, namespace) == []
    await record(
        rec, detector, post("2", "b", T0 + timedelta(minutes=1), "Kunduz has fallen, officials say.")
    )
    await record(rec, detector, post("3", "c", T0 + timedelta(minutes=2), "The Taliban captured Kunduz."))
    assert [(a.kind, a.sources) for a in await outbox(redis_client, namespace)] == [
        ("alert", 2),
        ("update", 3),
    ]


async def test_a_neutral_official_body_raises_the_alert_alone_whatever_min_sources_asks(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace, min_sources=3)
    await record(rec, detector, post("1", "MONUSCO"))
    [alert] = await outbox(redis_client, namespace)
    assert alert.kind == "alert" and alert.sources_list[0].trust == 3


async def test_a_party_to_the_conflict_never_raises_the_alert_alone_and_reads_as_its_claim(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace, min_sources=2)
    await record(rec, detector, post("1", "ZabihullahM33"))
    assert await outbox(redis_client, namespace) == []
    await record(rec, detector, post("2", "reporter_a", T0, "Kunduz has fallen, residents say."))
    [alert] = await outbox(redis_client, namespace)
    assert alert.level == "party-claim" and alert.claimed_by == ["Taliban"]


async def test_a_retweet_of_an_old_report_opens_no_new_event(
    redis_client: aioredis.Redis, detector: Detector, namespace: str
) -> None:
    rec = recorder(redis_client, detector, namespace, window_minutes=60)
    await record(rec, detector, post("1", "a", T0))
    late = post("2", "b", T0 + timedelta(hours=5), f"RT @a: {KUNDUZ}", (PostRef(type="retweeted", id="1"),))
    await record(rec, detector, late)
    assert [a.kind for a in await outbox(redis_client, namespace)] == ["alert"]


async def test_two_processes_racing_on_the_same_posts_alert_each_event_once(
    redis_url: str, detector: Detector, namespace: str
) -> None:
    cities = ["Kunduz", "Taloqan", "Sheberghan", "Ghazni", "Herat", "Kandahar"]
    posts = [
        post(f"{i}-{j}", f"author{j}", T0, f"{city} has fallen.")
        for i, city in enumerate(cities)
        for j in range(3)
    ]
    clients = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    try:
        recs = [recorder(c, detector, namespace) for c in clients]
        await asyncio.gather(*(record(rec, detector, p) for rec in recs for p in posts))
        alerts = await outbox(clients[0], namespace)
    finally:
        for c in clients:
            await c.aclose()
    assert len({a.event_id for a in alerts}) == len(cities)
    assert len([a for a in alerts if a.kind == "alert"]) == len(cities)
    assert len([a for a in alerts if a.kind == "update"]) == 2 * len(cities)
