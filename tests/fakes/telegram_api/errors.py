"""A refused request: the exception that ends one, and Telegram's error JSON it is answered with."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.telegram_api.spec import JsonDict


class _ApiError(Exception):
    """Ends a request with Telegram's error JSON."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _error(err: _ApiError) -> web.Response:
    body: JsonDict = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return web.json_response(body, status=err.status)
