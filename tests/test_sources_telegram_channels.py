"""Public Telegram channels read from their web preview, against a fake t.me serving the real page shape."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.sources.telegram_channels import ChannelPreviewSource
from bot.store.keys import Keys
from tests.conftest import Collected
from tests.fakes.tg_preview import FakeTelegramPreview

REPORT = "⚡️ Mazar-i-Sharif has fallen.\nGovernment forces withdrew to Hayratan."


@pytest.fixture
async def tme() -> AsyncIterator[FakeTelegramPreview]:
    async with FakeTelegramPreview() as fake:
        fake.add_channel("TOLOnews")
        fake.add_channel("AmuTV")
        yield fake


def reader(
    tme: FakeTelegramPreview, redis_client: aioredis.Redis, keys: Keys, got: Collected
) -> ChannelPreviewSource:
    """A source whose rounds the test runs itself (its own schedule is not started)."""
    source = ChannelPreviewSource(tme.url, redis_client, keys, ["tolonews", "amutv"], 60, 0.01, 0.05)
    source.emit = got
    return source


async def test_a_channel_starts_from_its_newest_message_and_new_ones_become_posts(
    tme: FakeTelegramPreview, redis_client: aioredis.Redis, namespace: str
) -> None:
    tme.post("TOLOnews", "yesterday's news")
    got = Collected()
    source = reader(tme, redis_client, Keys(namespace), got)
    assert await source.poll_round() == 0, "messages from before watching began raise nothing"
    number = tme.post("TOLOnews", REPORT, "2021-08-14T15:42:00+00:00", reply_to="an older message")
    tme.post("TOLOnews", None)  # a photo without a caption
    assert await source.poll_round() == 1
    [post] = got.posts
    assert post.text == REPORT, "line breaks kept; the quoted reply is not part of the text"
    assert (post.author, post.source, post.id) == ("TOLOnews", "telegram-channel", f"tg:tolonews/{number}")
    assert post.url == f"{tme.url}/TOLOnews/{number}"
    assert post.created_at is not None and post.created_at.hour == 15
    await source.stop()


async def test_more_messages_than_a_page_since_the_last_poll_are_all_read_in_order(
    tme: FakeTelegramPreview, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = reader(tme, redis_client, Keys(namespace), got)
    tme.post("AmuTV", "before")
    await source.poll_round()
    for n in range(45):
        tme.post("AmuTV", f"update {n}")
    await source.poll_round()
    assert got.texts() == [f"update {n}" for n in range(45)]
    assert tme.reads("AmuTV")[-2:] == ["before=27", "before=7"]
    await source.stop()


async def test_a_dropped_connection_and_a_restart_miss_no_message_and_repeat_none(
    tme: FakeTelegramPreview, redis_client: aioredis.Redis, namespace: str
) -> None:
    got = Collected()
    source = reader(tme, redis_client, Keys(namespace), got)
    await source.poll_round()
    tme.post("TOLOnews", "one")
    tme.drop_next()  # the retry with back-off reads it
    await source.poll_round()
    await source.stop()
    tme.post("TOLOnews", "two")  # while the bot is down
    restarted = reader(tme, redis_client, Keys(namespace), got)
    await restarted.poll_round()
    await restarted.poll_round()
    assert got.texts() == ["one", "two"]
    await restarted.stop()


async def test_a_channel_without_a_public_preview_is_reported_once_clearly(
    tme: FakeTelegramPreview, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    tme.add_channel("closedchannel", preview=False)
    got = Collected()
    source = reader(tme, redis_client, Keys(namespace), got)
    await source.watch(["tolonews", "closedchannel"])
    with caplog.at_level(logging.INFO):
        await source.poll_round()
        await source.poll_round()
        tme.post("TOLOnews", REPORT)
        await source.poll_round()
    assert got.texts() == [REPORT], "the other channels go on"
    said = [r.getMessage() for r in caplog.records if "closedchannel" in r.getMessage()]
    assert len(said) == 1 and "has no public preview" in said[0] and "without a Telegram account" in said[0]
    assert "no public preview: closedchannel" in source.state().detail
    await source.stop()


async def test_a_malformed_page_or_message_is_logged_trimmed_and_skipped(
    tme: FakeTelegramPreview, redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collected()
    source = reader(tme, redis_client, Keys(namespace), got)
    await source.poll_round()
    broken = b'<div class="tgme_widget_message" data-post="TOLOnews/abc">' + b"x" * 2000 + b"</div>"
    tme.serve_raw_next(broken)
    tme.serve_raw_next(b"\x00\xff<<<not html at all")
    with caplog.at_level(logging.WARNING):
        await source.poll_round()
        tme.post("TOLOnews", REPORT)
        await source.poll_round()
    assert got.texts() == [REPORT]
    assert source.skipped == 1 and "skipped a malformed message" in caplog.text
    assert "x" * 400 not in caplog.text
    await source.stop()
