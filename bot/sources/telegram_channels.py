"""Posts from public Telegram channels (`tg:channelname` accounts), read from their web preview
(`https://t.me/s/<channel>`) without a Telegram account, parsed with selectolax (an HTML5 parser: the
preview is a page for browsers, not an API, so a real parser rather than patterns).

Each poll reads the newest page and, when more messages came since the last poll than one page holds,
older pages (`?before=<id>`) back to the last message read, at most MAX_PAGES_PER_POLL. The id of the
newest message read is kept in Redis. A channel whose owner turned the preview off (t.me/s/<channel>
redirects to t.me/<channel>) is reported once, clearly, and checked again each round.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.posts import Post
from bot.sources import SourceState
from bot.sources.polling import (
    RETRY_FIRST_SECONDS,
    RETRY_MAX_SECONDS,
    PolledSource,
    html_text,
    problem_of,
    read_body,
)
from bot.store.keys import Keys

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 60.0
MAX_PAGES_PER_POLL = 5  # about 100 messages; a channel posting more per minute is read in part


class NoPreview(Exception):
    """The channel has no public web preview (disabled by its owner, or no such public channel)."""


@dataclass(frozen=True)
class Message:
    number: int
    channel: str  # as Telegram writes it
    text: str
    when: str | None


def messages(html: bytes | str) -> tuple[list[Message], list[str]]:
    """The messages with text on one preview page, and the raw HTML of those that could not be read."""
    tree = LexborHTMLParser(html)
    found: list[Message] = []
    broken: list[str] = []
    for node in tree.css("div.tgme_widget_message[data-post]"):
        channel, _, number = (node.attributes.get("data-post") or "").partition("/")
        if not number.isdigit() or not channel or len(number) > 12:
            broken.append(node.html or "")
            continue
        text_node = node.css_first(".js-message_text")
        if text_node is None:
            continue  # a photo, a sticker, a poll without a caption: nothing to read
        when = node.css_first(".tgme_widget_message_date time")
        found.append(
            Message(
                int(number),
                channel,
                _text(text_node),
                when.attributes.get("datetime") if when is not None else None,
            )
        )
    return found, broken


def _text(node: LexborNode) -> str:
    return html_text(node.html or "")


class ChannelPreviewSource(PolledSource):
    name = "Telegram channels"
    network = "tg"

    def __init__(
        self,
        preview_base: str,
        client: aioredis.Redis,
        keys: Keys,
        accounts: list[str],
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        super().__init__(client, keys, accounts, poll_seconds, retry_first, retry_max)
        self.base = preview_base.rstrip("/")
        self.no_preview: set[str] = set()

    def state(self) -> SourceState:
        state = super().state()
        if not self.no_preview:
            return state
        closed = ", ".join(sorted(self.no_preview))
        return SourceState(state.name, state.healthy, f"{state.detail}; no public preview: {closed}")

    async def poll(self, channel: str) -> int:
        try:
            newest_page = await self._page(channel, None)
        except NoPreview:
            if channel not in self.no_preview:
                log.error(
                    "Telegram channel @%s has no public preview (%s/s/%s redirects to its profile): its"
                    " owner turned it off, or it is not a public channel. It cannot be read without a"
                    " Telegram account; remove it from rules.yaml or ask the owner.",
                    channel,
                    self.base,
                    channel,
                )
            self.no_preview.add(channel)
            return 0
        if channel in self.no_preview:
            log.info("Telegram channel @%s has a public preview again", channel)
            self.no_preview.discard(channel)
        known = await self.position(channel)
        top = max((m.number for m in newest_page), default=0)
        if known is None or not known.isdigit():
            return await self.first_read(channel, str(top), f"message {top}")
        after = int(known)
        new = [m for m in newest_page if m.number > after]
        page = newest_page
        for _ in range(MAX_PAGES_PER_POLL - 1):
            oldest = min((m.number for m in page), default=0)
            if not page or oldest <= after + 1:
                break
            page = await self._page(channel, oldest)
            new += [m for m in page if m.number > after]
        posts = self._posts({m.number: m for m in new}.values())
        emitted = await self.deliver(posts)
        if top > after:
            await self.keep_position(channel, str(top))
        return emitted

    async def _page(self, channel: str, before: int | None) -> list[Message]:
        assert self.session is not None
        params = {"before": str(before)} if before is not None else {}
        async with self.session.get(f"{self.base}/s/{channel}", params=params) as response:
            body = await read_body(response)
            if not response.url.path.startswith("/s/"):
                raise NoPreview(channel)
        found, broken = messages(body)
        for raw in broken:
            self.skip("message", f"@{channel}: no message id", raw)
        return found

    def _posts(self, found: Iterable[Message]) -> list[Post]:
        posts = []
        for message in sorted(found, key=lambda m: m.number):
            if not message.text:
                continue
            try:
                posts.append(
                    Post.model_validate(
                        {
                            "id": f"tg:{message.channel.lower()}/{message.number}",
                            "text": message.text,
                            "author": message.channel,
                            "created_at": message.when,
                            "url": f"{self.base}/{message.channel}/{message.number}",
                            "source": "telegram-channel",
                        }
                    )
                )
            except Exception as exc:  # one unusable message is skipped, never the rest of the page
                self.skip("message", f"@{message.channel}/{message.number}: {problem_of(exc)}", message.text)
        return posts
