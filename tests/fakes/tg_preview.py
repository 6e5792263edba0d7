"""A fake of Telegram's public channel preview, `https://t.me/s/<channel>`: the HTML page a browser gets.

What it imitates, after the real pages: the newest PAGE_SIZE messages of a channel, oldest first, each a
`div.tgme_widget_message` with `data-post="<channel>/<id>"`, its text in `.js-message_text` (line breaks
as <br/>, links, bold, emoji in <i class="emoji">), a reply's quoted text in `.js-message_reply_text`, the
time in `.tgme_widget_message_date time[datetime]`; photos without a caption have no text block;
`?before=<id>` gives the page of messages older than the id. A channel whose preview is off (or that
does not exist) redirects (302) to `/<channel>`, its plain profile page. Faults: any status on the next
requests, a connection closed without an answer, a raw page served instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

PAGE_SIZE = 20


@dataclass
class ChannelMessage:
    number: int
    text: str | None  # None: a photo without a caption
    when: datetime
    reply_to: str | None = None


@dataclass
class Channel:
    name: str  # as its owner wrote it
    title: str
    preview: bool = True
    messages: list[ChannelMessage] = field(default_factory=list)


class FakeTelegramPreview(LoopbackServer):
    name = "fake t.me"

    def __init__(self) -> None:
        super().__init__()
        self.channels: dict[str, Channel] = {}
        self.requests: list[tuple[str, str]] = []  # path, query string
        self._faults: list[tuple[int, bytes | None]] = []

    def add_channel(self, name: str, title: str = "", preview: bool = True) -> Channel:
        channel = Channel(name, title or name, preview)
        self.channels[name.lower()] = channel
        return channel

    def post(self, name: str, text: str | None, when: str | None = None, reply_to: str | None = None) -> int:
        channel = self.channels[name.lower()]
        number = (channel.messages[-1].number if channel.messages else 0) + 1
        moment = datetime.fromisoformat(when.replace("Z", "+00:00")) if when else datetime.now(UTC)
        channel.messages.append(ChannelMessage(number, text, moment, reply_to))
        return number

    def fail_next(self, status: int) -> None:
        self._faults.append((status, None))

    def drop_next(self) -> None:
        self._faults.append((0, None))

    def serve_raw_next(self, body: bytes) -> None:
        self._faults.append((200, body))

    def reads(self, name: str) -> list[str]:
        """Query strings of the preview requests for a channel."""
        return [q for p, q in self.requests if p.lower() == f"/s/{name.lower()}"]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, request.query_string))
        if self._faults and request.path.startswith("/s/"):
            status, body = self._faults.pop(0)
            if status == 0:
                if request.transport is not None:
                    request.transport.close()
                raise web.HTTPInternalServerError()
            if body is not None:
                return web.Response(body=body, content_type="text/html")
            return web.Response(status=status, text="Too Many Requests" if status == 429 else "error")
        parts = [p for p in request.path.split("/") if p]
        if len(parts) == 2 and parts[0] == "s":
            channel = self.channels.get(parts[1].lower())
            if channel is None or not channel.preview:
                raise web.HTTPFound(f"/{parts[1]}")
            return web.Response(
                text=self._page(channel, request.query.get("before")), content_type="text/html"
            )
        if len(parts) == 1:
            return web.Response(
                text='<html><body><div class="tgme_page">'
                f'<div class="tgme_page_title">{html.escape(parts[0])}'
                '</div><a class="tgme_action_button_new">View in Telegram</a></div></body></html>',
                content_type="text/html",
            )
        return web.Response(status=404, text="not found")

    def _page(self, channel: Channel, before: str | None) -> str:
        shown = [m for m in channel.messages if not (before and before.isdigit()) or m.number < int(before)]
        body = "".join(self._message(channel, m) for m in shown[-PAGE_SIZE:])
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
            f'{html.escape(channel.title)} – Telegram</title></head><body class="widget_frame_base">'
            f'<header class="tgme_header"><div class="tgme_channel_info_header_title">'
            f"{html.escape(channel.title)}</div></header>"
            f'<main class="tgme_main"><section class="tgme_channel_history js-message_history">{body}'
            "</section></main></body></html>"
        )

    def _message(self, channel: Channel, m: ChannelMessage) -> str:
        post = f"{channel.name}/{m.number}"
        reply = (
            '<a class="tgme_widget_message_reply" href="#"><div class="tgme_widget_message_author">'
            f'{html.escape(channel.title)}</div><div class="tgme_widget_message_text js-message_reply_text">'
            f"{html.escape(m.reply_to)}</div></a>"
            if m.reply_to
            else ""
        )
        text = (
            '<div class="tgme_widget_message_text js-message_text" dir="auto">'
            + "<br/>".join(html.escape(line) for line in m.text.split("\n"))
            + "</div>"
            if m.text is not None
            else '<a class="tgme_widget_message_photo_wrap" style="background-image:url(x.jpg)"></a>'
        )
        return (
            '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
            f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{post}"'
            ' data-view="eyJjIjotMX0">'
            f'<div class="tgme_widget_message_bubble">{reply}{text}'
            '<div class="tgme_widget_message_footer compact js-message_footer">'
            '<div class="tgme_widget_message_info short js-message_info">'
            '<span class="tgme_widget_message_views">1.2K</span><span class="tgme_widget_message_meta">'
            f'<a class="tgme_widget_message_date" href="https://t.me/{post}">'
            f'<time datetime="{m.when.isoformat()}" class="time">{m.when:%H:%M}</time></a></span>'
            "</div></div></div></div></div>"
        )
