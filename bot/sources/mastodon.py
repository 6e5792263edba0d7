"""Posts from Mastodon (and other servers speaking the Mastodon API): public account timelines, polled.

aiohttp against the two documented endpoints (GET /api/v1/accounts/lookup, GET /api/v1/accounts/:id/
statuses) rather than Mastodon.py: Mastodon.py is synchronous (requests), so each call would need a
thread, and it would bring its own retry and rate-limit handling beside the one this bot has; two GETs
do not need a client library.

The base URL comes from the account itself (`mastodon:https://server/@user`). Timelines are read with
`min_id` (Mastodon's "statuses immediately newer than"), page after page, rather than `since_id`, which
returns the newest page and would skip what lies between after a long pause. The account id and the id
of the newest status read are kept in Redis. Status ids are compared by the server's order, never as
numbers (Pleroma and Akkoma ids are not numeric). A token (MASTODON_ACCESS_TOKENS) goes to its server only.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, SecretStr

from bot.posts import Post, json_object
from bot.sources.polling import (
    RETRY_FIRST_SECONDS,
    RETRY_MAX_SECONDS,
    HttpStatus,
    PolledSource,
    html_text,
    problem_of,
    read_body,
)
from bot.store.keys import Keys

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 60.0
PAGE_SIZE = 40  # Mastodon's maximum for an account's statuses
MAX_PAGES_PER_POLL = 5


class Status(BaseModel):
    """The part of a Mastodon status read here; Post validates each value."""

    model_config = ConfigDict(extra="ignore")
    id: str
    uri: str | None = None
    url: str | None = None
    created_at: str | None = None
    content: str = ""
    spoiler_text: str = ""
    language: str | None = None
    reblog: Status | None = None


def tokens_by_server(tokens: SecretStr | None) -> dict[str, str]:
    """`server=token,server2=token2` as {server host: token}."""
    if tokens is None:
        return {}
    pairs = (part.split("=", 1) for part in tokens.get_secret_value().split(",") if "=" in part)
    return {host.strip().lower(): token.strip() for host, token in pairs}


def status_post(status: Status, author: str, host: str) -> Post:
    shown = status.reblog or status
    text = html_text(shown.content)
    if shown.spoiler_text:  # a content warning is part of what the author wrote
        text = f"{shown.spoiler_text}\n\n{text}"
    refs = [{"type": "retweeted", "id": shown.uri or shown.id}] if status.reblog else []
    own = status.uri if status.uri and len(status.uri) <= 100 else f"mastodon:{host}/{status.id}"
    return Post.model_validate(
        {
            "id": own,
            "text": text,
            "author": author,
            "lang": shown.language,
            "created_at": status.created_at,
            "url": shown.url or shown.uri,
            "refs": refs,
            "source": "mastodon",
        }
    )


class MastodonSource(PolledSource):
    name = "Mastodon"
    network = "mastodon"

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        accounts: list[str],
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        tokens: dict[str, str] | None = None,
        retry_first: float = RETRY_FIRST_SECONDS,
        retry_max: float = RETRY_MAX_SECONDS,
    ) -> None:
        super().__init__(client, keys, accounts, poll_seconds, retry_first, retry_max)
        self.tokens = tokens or {}

    async def _get(self, origin: str, path: str, params: dict[str, str]) -> Any:
        assert self.session is not None
        token = self.tokens.get(urlsplit(origin).netloc.lower())
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.get(f"{origin}{path}", params=params, headers=headers) as response:
            body = await read_body(response)
        return json.loads(body) if body.strip().startswith(b"[") else json_object(body)

    async def poll(self, profile: str) -> int:
        parts = urlsplit(profile)
        origin, user = f"{parts.scheme}://{parts.netloc}", parts.path.strip("/").removeprefix("@")
        author = f"{user}@{parts.netloc}"
        known = _position(await self.position(profile))
        account_id = known.get("account") or await self._account_id(origin, user)
        statuses_path = f"/api/v1/accounts/{account_id}/statuses"
        newest = known.get("newest")
        if newest is None:
            latest = await self._get(origin, statuses_path, {"limit": "1"})
            # No status yet: "0", so the next read pages up from the very first one.
            top = str(latest[0]["id"]) if isinstance(latest, list) and latest else "0"
            return await self.first_read(profile, _text(account_id, top), f"status {top}")
        found: list[Any] = []
        for _ in range(MAX_PAGES_PER_POLL):
            page = await self._get(origin, statuses_path, {"limit": str(PAGE_SIZE), "min_id": newest})
            if not isinstance(page, list) or not page:
                break
            found += reversed(page)  # each page lists newest first
            newest = str(page[0].get("id")) if isinstance(page[0], dict) else newest
            if len(page) < PAGE_SIZE:
                break
        emitted = await self.deliver(self._posts(found, author, parts.netloc))
        await self.keep_position(profile, _text(account_id, newest))
        return emitted

    async def _account_id(self, origin: str, user: str) -> str:
        try:
            account = await self._get(origin, "/api/v1/accounts/lookup", {"acct": user})
        except HttpStatus as exc:
            if exc.status == 404:
                raise HttpStatus(404, f"{origin}/@{user} (no such account)") from None
            raise
        account_id = account.get("id") if isinstance(account, dict) else None
        if not isinstance(account_id, str | int) or not str(account_id).isalnum():
            raise ValueError(f"{origin} answered no account id for @{user}")
        return str(account_id)

    def _posts(self, statuses: list[Any], author: str, host: str) -> list[Post]:
        posts = []
        for raw in statuses:
            try:
                posts.append(status_post(Status.model_validate(raw), author, host))
            except Exception as exc:  # one unusable status is skipped, never the rest of the timeline
                self.skip("status", f"{author}: {problem_of(exc)}", repr(raw))
        return posts


def _position(raw: str | None) -> dict[str, str]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return (
        {k: str(v) for k, v in data.items() if k in ("account", "newest")} if isinstance(data, dict) else {}
    )


def _text(account_id: str, newest: str) -> str:
    return json.dumps({"account": account_id, "newest": newest})
