"""Acceptance: three `frontwatch run` processes on one Redis and one bot token, as
`docker compose up --scale bot=3` runs them, against the fake Bot API (409 for overlapping
getUpdates, 429 past Telegram's limits) and the fake X stream (one connection at a time).

Commands are answered once, a 300-chat fan-out draws no 429, and when the process that polls
Telegram and holds the X stream is killed (-9), another takes both over and every alert still
reaches every chat once. How fast (takeover seconds, fan-out against the token's limit) is
measured by bench/several_processes.py, not asserted here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis

from bot.store.keys import Keys
from bot.telegram.delivery import CONCURRENT_SENDS
from tests.conftest import eventually
from tests.fleet import POLLING_ROLE, X_STREAM_ROLE, fleet_on_fakes
from tests.test_x_e2e import WATCHED

CHATS = range(1, 301)
ASKING = 9001  # a private chat that only sends commands
FIRST = "The city of Mazari Sharif has fallen into the hands of the Taliban, officials say."
# Three bots and the fake share two cores with the rest of the suite: a message admitted by the
# limiter reaches the fake up to ~0.15 s later or earlier than its neighbours, which the fake's
# sliding window must not count as Telegram's limit broken (the loopback default is 0.05 s).
ARRIVAL_TOLERANCE = 0.15
SECOND = "Sheberghan, the capital of Jowzjan province, has fallen to the Taliban this afternoon."


async def test_three_processes_answer_once_stay_within_limits_and_survive_the_pollers_death(
    tmp_path: Path, redis_url: str, namespace: str
) -> None:
    fakes = fleet_on_fakes(tmp_path, redis_url, namespace, CHATS, ARRIVAL_TOLERANCE)
    async with fakes as (fleet, telegram, x):
        fleet.start()
        first_holder = await fleet.wait_for_holder(POLLING_ROLE)
        assert await fleet.wait_for_holder(X_STREAM_ROLE) == first_holder
        await x.wait_for_stream(timeout=60)
        fleet.start()
        fleet.start()
        await asyncio.sleep(4)  # the two newcomers try the leases (every 2 s) and stay standby

        telegram.send_user_message(ASKING, "/start")
        await eventually(lambda: len(telegram.messages_to(ASKING)) >= 1, timeout=30, what="/start answered")
        await asyncio.sleep(2)  # a second answer would come by now
        assert len(telegram.messages_to(ASKING)) == 1, fleet.logs()

        x.post(WATCHED["BilalSarwary"], FIRST, lang="en")
        await eventually(
            lambda: all(telegram.messages_to(c) for c in CHATS), timeout=90, what="the alert in 300 chats"
        )
        assert telegram.count_429 == 0 and telegram.violations == []
        assert telegram.responses[409] == 0  # no overlapping getUpdates in steady state

        fleet.kill(first_holder)
        # The two roles are taken apart: one survivor may poll while the other holds the stream.
        await fleet.wait_for_holder(POLLING_ROLE, other_than=first_holder, timeout=60)
        await fleet.wait_for_holder(X_STREAM_ROLE, other_than=first_holder, timeout=60)
        await x.wait_for_stream(connections=2, timeout=60)
        telegram.send_user_message(ASKING, "/start")
        await eventually(
            lambda: len(telegram.messages_to(ASKING)) == 2, timeout=60, what="/start answered again"
        )

        x.post(WATCHED["AJEnglish"], SECOND, lang="en")
        await eventually(
            lambda: all(len(telegram.messages_to(c)) >= 2 for c in CHATS),
            timeout=90,
            what="the second alert",
        )
        await asyncio.sleep(2)  # a repeat would come by now
        counts = {len(telegram.messages_to(c)) for c in CHATS}
        assert counts == {2}, f"messages per chat: {counts}"  # each alert once, in every chat
        assert telegram.count_429 == 0 and telegram.violations == []
        assert len(telegram.messages_to(ASKING)) == 2
        assert sorted(fleet.stop()) == [-9, 0, 0]


async def test_an_alert_whose_deliverer_is_killed_mid_fan_out_still_reaches_every_chat(
    tmp_path: Path, redis_url: str, namespace: str, redis_client: aioredis.Redis
) -> None:
    """kill -9 of the process fanning an alert out: another takes the outbox entry over (after its
    idle time) and reaches the chats still missing. At least once: a chat whose message was on the
    wire at the kill may get it twice (Telegram has no idempotency key), never none."""
    fakes = fleet_on_fakes(tmp_path, redis_url, namespace, CHATS, ARRIVAL_TOLERANCE)
    async with fakes as (fleet, telegram, x):
        fleet.start()
        await fleet.wait_for_holder(X_STREAM_ROLE)
        await x.wait_for_stream(timeout=60)
        fleet.start()
        await asyncio.sleep(3)
        x.post(WATCHED["BilalSarwary"], FIRST, lang="en")
        await eventually(lambda: len(telegram.sent) >= 60, timeout=60, what="the fan-out under way")
        pending = await redis_client.xpending_range(
            Keys(namespace).outbox(), "dispatch:telegram", min="-", max="+", count=10
        )
        [deliverer] = {entry["consumer"] for entry in pending}
        fleet.kill(int(deliverer.rsplit("-", 1)[1]))
        reached = len({s.chat_id for s in telegram.sent})
        assert reached < len(CHATS)  # killed mid-way
        await eventually(
            lambda: all(telegram.messages_to(c) for c in CHATS), timeout=120, what="every chat reached"
        )
        twice = [c for c in CHATS if len(telegram.messages_to(c)) > 1]
        # Only messages on the wire at the kill can come twice: at most the sends a process has in
        # flight at once (how many were, depends on the machine's load at that instant).
        assert len(twice) <= CONCURRENT_SENDS, f"{len(twice)} chats got the alert twice"
        assert telegram.count_429 == 0
