"""Request parameters: a JSON body, a form or the query string, each field converted on access as
Telegram converts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api.errors import _ApiError
from tests.fakes.telegram_api.spec import CHAT_NOT_FOUND, JsonDict

Handler = Callable[["_Params"], Awaitable[Any]]

# --- request parameters -----------------------------------------------------------------------

_INT_RE = re.compile(r"-?\d+")
_TRUE = {"true", "1"}
_FALSE = {"false", "0", ""}


class _Params:
    """One request's parameters from a JSON body, a form or the query string.

    Form and query values are all strings (python-telegram-bot JSON-encodes every non-string
    value of a form), so each getter converts on access, as Telegram does per field.
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else str(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
            return int(value)
        raise _ApiError(400, f"Bad Request: invalid {name} specified")

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if str(value).strip().lower() in _TRUE | _FALSE:
            return str(value).strip().lower() in _TRUE
        raise _ApiError(400, f"Bad Request: invalid {name} specified")

    def json(self, name: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _ApiError(400, f"Bad Request: can't parse {name} JSON object") from None

    def chat_ref(self) -> int | str:
        """The chat as the request names it: an id, or "@username" for public chats."""
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if _INT_RE.fullmatch(text):
            return int(text)
        if text.startswith("@"):
            return text[1:].lower()
        raise _ApiError(400, CHAT_NOT_FOUND)


async def _read_params(request: web.Request) -> _Params:
    raw: JsonDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw.update(await _json_body(request))
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            # File uploads are not imitated; only plain fields are kept.
            raw.update({k: v for k, v in form.items() if isinstance(v, str)})
    return _Params(raw)


async def _json_body(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except ValueError:
        raise _ApiError(400, "Bad Request: can't parse JSON") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "Bad Request: JSON object expected")
    return body
