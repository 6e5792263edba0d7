"""A fake Mastodon server: the REST endpoints a reader of public timelines uses.

What it imitates, after docs.joinmastodon.org (methods/accounts): `GET /api/v1/accounts/lookup?acct=`
(404 `{"error": "Record not found"}` for an unknown account), `GET /api/v1/accounts/:id/statuses` with
`limit` (default 20, at most 40), `max_id`, `since_id` (the newest page newer than it) and `min_id` (the
page immediately newer than it), newest first, and a `Link` header; statuses with `id`, `uri`, `url`,
`created_at`, `content` (HTML: <p>, <br>, links with invisible spans), `spoiler_text`, `language`,
`reblog`, `account`. A server may require a token (401 "This API requires an authenticated user").
Faults: any status on the next requests (429 with X-RateLimit-Reset), a dropped connection, a raw body.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

JsonDict = dict[str, Any]


class FakeMastodon(LoopbackServer):
    name = "fake Mastodon"

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token  # when set, every API call needs it
        self.accounts: dict[str, JsonDict] = {}  # username (lower) -> account
        self.statuses: list[JsonDict] = []  # oldest first
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []  # path, query, headers
        self._faults: list[tuple[int, bytes | None]] = []
        self._next_id = 109_000_000_000_000_000

    def add_account(self, username: str) -> JsonDict:
        account = {
            "id": str(len(self.accounts) + 1),
            "username": username,
            "acct": username,
            "url": f"{self.url}/@{username}",
            "display_name": username,
        }
        self.accounts[username.lower()] = account
        return account

    def profile(self, username: str) -> str:
        return f"{self.url}/@{username}"

    def post(
        self,
        username: str,
        text: str,
        language: str | None = "en",
        created_at: str | None = None,
        reblog_of: JsonDict | None = None,
        spoiler: str = "",
    ) -> JsonDict:
        account = self.accounts[username.lower()]
        self._next_id += 1_000 + len(self.statuses)
        sid = str(self._next_id)
        paragraphs = "".join(
            f"<p>{'<br />'.join(html.escape(x) for x in p.split(chr(10)))}</p>" for p in text.split("\n\n")
        )
        status = {
            "id": sid,
            "uri": f"{self.url}/users/{username}/statuses/{sid}",
            "url": f"{self.url}/@{username}/{sid}",
            "created_at": created_at or datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "content": "" if reblog_of else paragraphs,
            "spoiler_text": spoiler,
            "language": None if reblog_of else language,
            "visibility": "public",
            "reblog": reblog_of,
            "account": account,
        }
        self.statuses.append(status)
        return status

    def fail_next(self, status: int) -> None:
        self._faults.append((status, None))

    def drop_next(self) -> None:
        self._faults.append((0, None))

    def serve_raw_next(self, body: bytes) -> None:
        self._faults.append((200, body))

    def reads(self, username: str) -> list[dict[str, str]]:
        account_id = self.accounts[username.lower()]["id"]
        return [q for p, q, _ in self.requests if p == f"/api/v1/accounts/{account_id}/statuses"]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.query), dict(request.headers)))
        if self._faults:
            status, body = self._faults.pop(0)
            if status == 0:
                if request.transport is not None:
                    request.transport.close()
                raise web.HTTPInternalServerError()
            if body is not None:
                return web.Response(body=body, content_type="application/json")
            reset = (datetime.now(UTC) + timedelta(seconds=90)).isoformat()
            headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            return web.json_response({"error": "Too many requests"}, status=status, headers=headers)
        if self.token is not None and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "This API requires an authenticated user"}, status=401)
        parts = request.path.strip("/").split("/")
        if parts == ["api", "v1", "accounts", "lookup"]:
            account = self.accounts.get(request.query.get("acct", "").lower())
            if account is None:
                return web.json_response({"error": "Record not found"}, status=404)
            return web.json_response(account)
        if len(parts) == 5 and parts[:3] == ["api", "v1", "accounts"] and parts[4] == "statuses":
            return self._timeline(request, parts[3])
        return web.json_response({"error": "Record not found"}, status=404)

    def _timeline(self, request: web.Request, account_id: str) -> web.Response:
        if not any(a["id"] == account_id for a in self.accounts.values()):
            return web.json_response({"error": "Record not found"}, status=404)
        query = request.query
        limit = min(int(query.get("limit", "20")) if query.get("limit", "").isdigit() else 20, 40)
        mine = [s for s in self.statuses if s["account"]["id"] == account_id]
        if query.get("max_id", "").isdigit():
            mine = [s for s in mine if int(s["id"]) < int(query["max_id"])]
        if query.get("since_id", "").isdigit():
            mine = [s for s in mine if int(s["id"]) > int(query["since_id"])]
        if query.get("min_id", "").isdigit():
            newer = [s for s in mine if int(s["id"]) > int(query["min_id"])]
            page = newer[:limit]  # the statuses immediately newer than min_id
        else:
            page = mine[-limit:]  # the newest
        page = list(reversed(page))  # newest first
        headers = {}
        if page:
            base = f"{self.url}/api/v1/accounts/{account_id}/statuses"
            headers["Link"] = (
                f'<{base}?max_id={page[-1]["id"]}>; rel="next", <{base}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return web.json_response(page, headers=headers)
