"""The outbox never discards undelivered work: trimming keeps every entry some group has not acknowledged."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.outbox.consumer import OutboxConsumer
from bot.store.keys import Keys

GROUPS = ("dispatch:telegram", "dispatch:console")

# One step: add an entry, read up to n entries as a group, acknowledge up to n of a group's pending
# entries, or trim.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 3), st.sampled_from(GROUPS)),
        st.tuples(st.just("read"), st.integers(1, 4), st.sampled_from(GROUPS)),
        st.tuples(st.just("ack"), st.integers(1, 4), st.sampled_from(GROUPS)),
        st.tuples(st.just("trim"), st.just(0), st.sampled_from(GROUPS)),
    ),
    min_size=1,
    max_size=30,
)


async def play(redis_url: str, moves: list[tuple[str, int, str]]) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    keys = Keys(f"trim-{uuid.uuid4().hex[:8]}:")
    consumers = {g: OutboxConsumer(client, keys, [], "worker", group=g) for g in GROUPS}
    try:
        for consumer in consumers.values():
            await consumer.ensure_group()
        added: list[str] = []
        acked: dict[str, set[str]] = {g: set() for g in GROUPS}
        for move, n, group in moves:
            stream = keys.outbox()
            if move == "add":
                added += [await client.xadd(stream, {"kind": "alert"}) for _ in range(n)]
            elif move == "read":
                await client.xreadgroup(group, "worker", {stream: ">"}, count=n)
            elif move == "ack":
                pending = await client.xpending_range(stream, group, "-", "+", n)
                ids = [p["message_id"] for p in pending]
                if ids:
                    await client.xack(stream, group, *ids)
                acked[group].update(ids)
            else:
                await consumers[group].trim_delivered()
            kept = {entry_id for entry_id, _ in await client.xrange(stream)}
            undelivered = {e for e in added if not all(e in acked[g] for g in GROUPS)}
            assert undelivered <= kept, f"trimmed before every group acknowledged: {undelivered - kept}"
    finally:
        await client.delete(keys.outbox())
        await client.aclose()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=steps)
def test_the_outbox_keeps_every_unacknowledged_entry_under_any_interleaving(
    redis_url: str, moves: list[tuple[str, int, str]]
) -> None:
    asyncio.run(play(redis_url, moves))


async def test_entries_every_group_acknowledged_are_trimmed(redis_url: str, namespace: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    keys = Keys(namespace)
    consumer = OutboxConsumer(client, keys, [], "worker", group=GROUPS[0])
    await consumer.ensure_group()
    ids = [await client.xadd(keys.outbox(), {"kind": "alert"}) for _ in range(5)]
    await client.xreadgroup(GROUPS[0], "worker", {keys.outbox(): ">"}, count=3)
    await client.xack(keys.outbox(), GROUPS[0], *ids[:3])
    assert await consumer.trim_delivered() == 3
    assert [e for e, _ in await client.xrange(keys.outbox())] == ids[3:]
    await client.aclose()
