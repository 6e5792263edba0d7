"""A fake web server publishing RSS 2.0 and Atom 1.0 feeds, as news sites and ministries do.

What it imitates: feeds at `/<name>.rss` and `/<name>.atom`, newest entry first, at most `window`
entries per document (older ones fall off, as on real sites); `ETag` and `Last-Modified` on every
answer and `304 Not Modified` for a conditional request that matches (If-None-Match, If-Modified-Since);
faults: any status on the next requests (429/503 with Retry-After), a connection closed without an
answer, and a raw body served instead of the feed (a broken or truncated document).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from tests.fakes.loopback import LoopbackServer


@dataclass
class Entry:
    guid: str
    title: str
    summary: str
    link: str
    published: datetime


@dataclass
class Feed:
    name: str
    kind: str  # "rss" or "atom"
    title: str
    language: str | None
    entries: list[Entry] = field(default_factory=list)  # newest first
    modified: datetime = field(default_factory=lambda: datetime(2021, 8, 1, tzinfo=UTC))


@dataclass
class Fault:
    status: int = 0  # 0: close the connection without an answer
    retry_after: str | None = None
    body: bytes | None = None  # served with 200 instead of the feed


class FakeFeeds(LoopbackServer):
    name = "fake feeds"

    def __init__(self, window: int = 20) -> None:
        super().__init__()
        self.window = window
        self.feeds: dict[str, Feed] = {}
        self.requests: list[tuple[str, dict[str, str], int]] = []  # path, headers, status answered
        self._faults: dict[str, list[Fault]] = {}
        self._seq = 0

    # --- the test's side ----------------------------------------------------------------------

    def add_feed(self, name: str, kind: str = "rss", title: str = "", language: str | None = "en") -> str:
        """A feed; returns its URL."""
        self.feeds[f"/{name}.{kind}"] = Feed(name, kind, title or name, language)
        return self.feed_url(name, kind)

    def feed_url(self, name: str, kind: str = "rss") -> str:
        return f"{self.url}/{name}.{kind}"

    def publish(
        self, name: str, title: str, summary: str = "", published: str | None = None, kind: str = "rss"
    ) -> Entry:
        feed = self.feeds[f"/{name}.{kind}"]
        self._seq += 1
        when = datetime.fromisoformat(published.replace("Z", "+00:00")) if published else datetime.now(UTC)
        link = f"{self.url}/{name}/articles/{self._seq}"
        entry = Entry(f"urn:fake:{name}:{self._seq}", title, summary, link, when)
        feed.entries.insert(0, entry)
        feed.modified = datetime.now(UTC).replace(microsecond=0)  # when the document last changed
        return entry

    def fail_next(self, name: str, status: int, retry_after: str | None = None, kind: str = "rss") -> None:
        self._faults.setdefault(f"/{name}.{kind}", []).append(Fault(status, retry_after))

    def drop_next(self, name: str, kind: str = "rss") -> None:
        self._faults.setdefault(f"/{name}.{kind}", []).append(Fault(0))

    def serve_raw_next(self, name: str, body: bytes, kind: str = "rss") -> None:
        self._faults.setdefault(f"/{name}.{kind}", []).append(Fault(200, body=body))

    def reads(self, name: str, kind: str = "rss") -> list[tuple[dict[str, str], int]]:
        return [(h, s) for p, h, s in self.requests if p == f"/{name}.{kind}"]

    # --- the server's side --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        headers = dict(request.headers)
        faults = self._faults.get(path)
        if faults:
            fault = faults.pop(0)
            self.requests.append((path, headers, fault.status))
            if fault.status == 0:
                if request.transport is not None:
                    request.transport.close()
                raise web.HTTPInternalServerError()  # never reaches the client: the socket is gone
            if fault.body is not None:
                return web.Response(body=fault.body, content_type="application/rss+xml")
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.Response(status=fault.status, text="busy", headers=extra)
        feed = self.feeds.get(path)
        if feed is None or request.method != "GET":
            self.requests.append((path, headers, 404))
            return web.Response(status=404, text="not found")
        body = self._document(feed).encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        validators = {"ETag": etag, "Last-Modified": format_datetime(feed.modified, usegmt=True)}
        if self._not_modified(request, etag, feed.modified):
            self.requests.append((path, headers, 304))
            return web.Response(status=304, headers=validators)
        self.requests.append((path, headers, 200))
        kind = "application/rss+xml" if feed.kind == "rss" else "application/atom+xml"
        return web.Response(body=body, headers={**validators, "Content-Type": f"{kind}; charset=utf-8"})

    @staticmethod
    def _not_modified(request: web.Request, etag: str, modified: datetime) -> bool:
        match = request.headers.get("If-None-Match")
        if match is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            return etag in [m.strip() for m in match.split(",")]
        since = request.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def _document(self, feed: Feed) -> str:
        entries = feed.entries[: self.window]
        if feed.kind == "atom":
            return _atom(feed, entries)
        return _rss(feed, entries)


def _rss(feed: Feed, entries: list[Entry]) -> str:
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f'<guid isPermaLink="false">{escape(e.guid)}</guid>'
        f"<description>{escape(e.summary)}</description>"
        f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate></item>"
        for e in entries
    )
    lang = f"<language>{feed.language}</language>" if feed.language else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(feed.title)}</title><link>http://127.0.0.1/</link>"
        f"<description>{escape(feed.title)}</description>{lang}{items}</channel></rss>"
    )


def _atom(feed: Feed, entries: list[Entry]) -> str:
    items = "".join(
        f"<entry><title>{escape(e.title)}</title><id>{escape(e.guid)}</id>"
        f'<link rel="alternate" href="{escape(e.link)}"/>'
        f"<updated>{e.published.isoformat()}</updated><published>{e.published.isoformat()}</published>"
        f'<summary type="html">{escape(e.summary)}</summary></entry>'
        for e in entries
    )
    lang = f' xml:lang="{feed.language}"' if feed.language else ""
    updated = (entries[0].published if entries else feed.modified).isoformat()
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{lang}>'
        f"<title>{escape(feed.title)}</title><id>urn:fake:{feed.name}</id><updated>{updated}</updated>"
        f"{items}</feed>"
    )
