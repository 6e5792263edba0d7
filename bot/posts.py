"""`Post`, the one shape every source emits, and reading posts from JSONL (plain or X API v2 shape)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

# X's longest posts (premium long-form) are 25,000 characters; anything past this is not a post.
MAX_TEXT_CHARS = 40_000


class PostRef(BaseModel):
    """A post this one points at: what it retweets, quotes or replies to."""

    model_config = ConfigDict(frozen=True)

    type: Literal["retweeted", "quoted", "replied_to"]
    id: Annotated[str, Field(min_length=1, max_length=64)]


class Post(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=128)]
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
    author: str | None = None
    lang: str | None = None
    created_at: AwareDatetime | None = None
    url: str | None = None
    refs: tuple[PostRef, ...] = ()
    source: str = "file"

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("author")
    @classmethod
    def _handle_without_at(cls, value: str | None) -> str | None:
        return value.lstrip("@") or None if value else None

    @field_validator("lang")
    @classmethod
    def _usable_lang(cls, value: str | None) -> str | None:
        # X marks undetermined text "und", and some clients send "zxx" or "qme": no language then.
        if not value or value in ("und", "zxx", "qam", "qct", "qht", "qme", "qst"):
            return None
        return value.lower().split("-")[0]

    @field_validator("created_at", mode="before")
    @classmethod
    def _naive_is_utc(cls, value: Any) -> Any:
        if (
            isinstance(value, str)
            and value
            and value[-1].isdigit()
            and "T" in value
            and "+" not in value[10:]
        ):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                return value
            return value + "+00:00"
        return value


class BadPostLine(ValueError):
    """One input line that is not a usable post; the message says why."""


def post_from_x_v2(payload: dict[str, Any], source: str = "x") -> Post:
    """A post from an X API v2 object: `{"data": {...}, "includes": {"users": [...]}}`."""
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadPostLine("X v2 object without a 'data' object")
    users = payload.get("includes", {}).get("users", []) if isinstance(payload.get("includes"), dict) else []
    handle = next(
        (u.get("username") for u in users if isinstance(u, dict) and u.get("id") == data.get("author_id")),
        None,
    )
    post_id = data.get("id")
    url = f"https://x.com/{handle or 'i/web'}/status/{post_id}" if post_id else None
    refs = [r for r in data.get("referenced_tweets") or [] if isinstance(r, dict)]
    return Post.model_validate(
        {
            "id": post_id,
            "text": data.get("note_tweet", {}).get("text") or data.get("text"),
            "author": handle,
            "lang": data.get("lang"),
            "created_at": data.get("created_at"),
            "url": url,
            "refs": refs,
            "source": source,
        }
    )


def parse_post_line(line: str, source: str = "file") -> Post:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadPostLine(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise BadPostLine(f"expected a JSON object, got {type(obj).__name__}")
    try:
        if "data" in obj and "text" not in obj:
            return post_from_x_v2(obj, source)
        return Post.model_validate({**obj, "source": obj.get("source", source)})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "post"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise BadPostLine(f"field '{field}': {first['msg']}{more}") from None


def read_posts(
    lines: Iterable[str], on_bad_line: Callable[[int, str], None], source: str = "file"
) -> Iterator[Post]:
    """Posts from JSONL text; a bad line goes to `on_bad_line(line_number, reason)` and reading goes on."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_post_line(line, source)
        except BadPostLine as exc:
            on_bad_line(number, str(exc))
