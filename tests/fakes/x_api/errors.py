"""The fake's errors: an exception that ends a request with X's status and body, and X's problems."""

from __future__ import annotations

import http
from collections.abc import Mapping

from tests.fakes.x_api.spec import PROBLEMS, JsonDict

# --- errors ------------------------------------------------------------------------------------


class _XError(Exception):
    """Ends a request with this status, JSON body and extra headers."""

    def __init__(self, status: int, body: JsonDict, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _problem(status: int) -> JsonDict:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"title": phrase, "detail": phrase, "type": "about:blank", "status": status}


def _invalid_request(errors: list[JsonDict]) -> _XError:
    return _XError(
        400,
        {
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        },
    )


def _bad_param(name: str, value: str, message: str) -> _XError:
    return _invalid_request([{"parameters": {name: [value]}, "message": message}])


def _not_found(parameter: str, value: str, detail: str) -> JsonDict:
    return {
        "value": value,
        "detail": detail,
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }
