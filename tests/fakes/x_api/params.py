"""Request parameters as X checks them (fields, expansions, ids, times) and pagination tokens."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.fakes.x_api.errors import _bad_param
from tests.fakes.x_api.spec import _ALLOWED_PARAMS, _ID_PATTERN, _ID_RE, TWEET_FIELDS, USER_FIELDS

# --- request parameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """What a request asked to see: expansions and fields."""

    expansions: frozenset[str]
    tweet_fields: frozenset[str]
    user_fields: frozenset[str]


_FULL_SHAPE = _Shape(frozenset({"author_id"}), TWEET_FIELDS, USER_FIELDS)


def _csv(query: Mapping[str, str], name: str, allowed: frozenset[str]) -> frozenset[str]:
    raw = query.get(name)
    if raw is None:
        return frozenset()
    values = raw.split(",")
    for value in values:
        if value not in allowed:
            listed = ",".join(sorted(allowed))
            raise _bad_param(
                name, value, f"The `{name}` query parameter value [{value}] is not one of [{listed}]"
            )
    return frozenset(values)


def _shape(query: Mapping[str, str], expansions: frozenset[str]) -> _Shape:
    # Media, place and poll fields are accepted without checking; nothing here has media, places or polls.
    return _Shape(
        _csv(query, "expansions", expansions),
        _csv(query, "tweet.fields", TWEET_FIELDS),
        _csv(query, "user.fields", USER_FIELDS),
    )


def _check_params(endpoint: str, query: Mapping[str, str]) -> None:
    allowed = _ALLOWED_PARAMS[endpoint]
    for name, value in query.items():
        if name not in allowed:
            listed = ",".join(sorted(allowed))
            raise _bad_param(name, value, f"The query parameter [{name}] is not one of [{listed}]")


def _id_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not _ID_RE.fullmatch(value):
        raise _bad_param(
            name, value, f"The `{name}` query parameter value [{value}] does not match {_ID_PATTERN}"
        )
    return int(value)


def _time_param(query: Mapping[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad_param(
            name, value, f"The `{name}` query parameter value [{value}] is not a valid RFC 3339 date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _encode_token(kind: str, bound: int, owner: str) -> str:
    raw = f"{kind}:{bound}:{owner}".encode()
    return base64.b32encode(raw).decode().rstrip("=").lower()


def _decode_token(token: str) -> tuple[str, int, str]:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        kind, bound, owner = base64.b32decode(padded).decode().split(":")
        return kind, int(bound), owner
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError(token) from None
