"""Posts from RSS and Atom feeds (`rss:https://…` accounts), read by feedparser over aiohttp.

aiohttp rather than feedparser's own fetching: feedparser fetches synchronously (urllib) and would block
the event loop; aiohttp is the client every other source uses, with the same timeouts, size cap and
back-off. Requests are conditional (ETag, Last-Modified): an unchanged feed costs a 304 and no parsing.
A 429 or 503 with Retry-After pauses that feed as long as the server asks.

Feeds have no ordered ids, so a feed's position is the ids of the entries already read (the newest
MAX_KEPT_IDS) with its validators, as JSON. An entry's title and summary are the post's text, its link
the post's url; the feed's site (host, and port if any) is the author: an outlet's feeds are one voice.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from bot.posts import Post
from bot.sources.polling import PolledSource, html_text, problem_of, read_body

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 300.0
MAX_KEPT_IDS = 500  # more than any feed lists at once, so an entry is never read twice
MAX_ENTRIES = 200  # entries read from one document; a feed of thousands is cut to its newest
_LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


@dataclass
class FeedPosition:
    ids: list[str] = field(default_factory=list)
    etag: str | None = None
    modified: str | None = None

    @classmethod
    def read(cls, raw: str | None) -> FeedPosition | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return cls([str(i) for i in data.get("ids", [])], data.get("etag"), data.get("modified"))
        except (ValueError, AttributeError, TypeError):
            return FeedPosition()  # unreadable: everything now in the feed counts as read once more

    def text(self) -> str:
        return json.dumps({"ids": self.ids[:MAX_KEPT_IDS], "etag": self.etag, "modified": self.modified})


def entry_key(entry: Any) -> str | None:
    """What identifies an entry: its id (guid), else its link, else its title."""
    for name in ("id", "link", "title"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def post_id(feed_url: str, key: str) -> str:
    """A guid that is a URL or URN is unique everywhere; a bare one ('1234') only within its feed."""
    unique = key if ":" in key else f"{feed_url} {key}"
    return "rss:" + hashlib.sha1(unique.encode("utf-8", "replace")).hexdigest()[:32]


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def entry_post(feed_url: str, author: str, lang: str | None, entry: Any) -> Post:
    """A post from one feed entry; pydantic's ValidationError (or another error) when it is unusable."""
    key = entry_key(entry)
    if key is None:
        raise ValueError("an entry without id, link or title")
    title = html_text(str(entry.get("title") or ""))
    summary = html_text(str(entry.get("summary") or ""))
    both = title and summary and not summary.startswith(title)
    text = f"{title}\n\n{summary}" if both else summary or title
    link = entry.get("link")
    return Post.model_validate(
        {
            "id": post_id(feed_url, key),
            "text": text,
            "author": author,
            "lang": lang,
            "created_at": _when(entry),
            "url": link if isinstance(link, str) and link.startswith(("http://", "https://")) else None,
            "source": "rss",
        }
    )


def parse_feed(body: bytes, content_type: str | None) -> Any:
    """feedparser's result; a document that is no feed at all has no `version` and no entries."""
    headers = {"content-type": content_type} if content_type else {}
    return feedparser.parse(body, response_headers=headers)


class FeedSource(PolledSource):
    name = "RSS/Atom feeds"
    network = "rss"

    async def poll(self, url: str) -> int:
        known = FeedPosition.read(await self.position(url))
        headers = {}
        if known is not None and known.etag:
            headers["If-None-Match"] = known.etag
        if known is not None and known.modified:
            headers["If-Modified-Since"] = known.modified
        assert self.session is not None
        async with self.session.get(url, headers=headers) as response:
            if response.status == 304:
                return 0
            body = await read_body(response)
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            content_type = response.headers.get("Content-Type")
        parsed = await asyncio.to_thread(parse_feed, body, content_type)
        if not parsed.entries and not parsed.get("version"):
            reason = str(parsed.get("bozo_exception") or "no RSS or Atom in it")
            self.skip("feed", f"{url}: {reason}", body)
            return 0
        entries = list(parsed.entries[:MAX_ENTRIES])
        keys = [k for k in (entry_key(e) for e in entries) if k is not None]
        if known is None:
            await self.first_read(url, FeedPosition(keys, etag, modified).text(), f"its {len(keys)} entries")
            return 0
        seen = set(known.ids)
        posts = self._posts(url, parsed, [e for e in entries if entry_key(e) not in seen])
        emitted = await self.deliver(posts)
        kept = keys + [k for k in known.ids if k not in set(keys)]
        await self.keep_position(url, FeedPosition(kept, etag, modified).text())
        return emitted

    def _posts(self, url: str, parsed: Any, entries: list[Any]) -> list[Post]:
        host = (urlsplit(url).netloc.lower() or url).removeprefix("www.")  # one site, one author
        lang = parsed.feed.get("language") if hasattr(parsed, "feed") else None
        lang = lang if isinstance(lang, str) and _LANG.fullmatch(lang) else None
        posts = []
        for entry in reversed(entries):  # feeds list newest first; hand them on in order
            try:
                posts.append(entry_post(url, host, lang, entry))
            except Exception as exc:  # one unusable entry is skipped, never the rest of the feed
                self.skip("feed entry", f"{url}: {problem_of(exc)}", repr(dict(entry)))
        posts.sort(key=lambda p: p.created_at or datetime.max.replace(tzinfo=UTC))
        return posts
