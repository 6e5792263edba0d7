"""`Post`, the one shape every source emits, and the one parser of posts (JSONL lines, X API v2 payloads).

The parser never raises anything but `BadPostLine`: whatever a file, stdin or X sends, the caller skips
one line and reads the next. Every field is bounded, and text that could drive a terminal is removed.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

# X's longest posts (Premium long-form) are 25,000 characters as X counts them; an emoji counts 2 there
# but can be several code points here, so the cap leaves room: anything past it is not a post.
MAX_TEXT_CHARS = 40_000
# X handles are at most 15 characters; other networks allow longer ones, none this long.
MAX_AUTHOR_CHARS = 100
MAX_URL_CHARS = 2_048  # what browsers and proxies reliably carry
MAX_ID_CHARS = 100  # X ids are 19 digits
MAX_REFS = 10  # X references at most a retweet, a quote and a reply
# A line holding the longest text, every character escaped as a \\uXXXX surrogate pair, still fits.
MAX_LINE_CHARS = 1_000_000
# X v2 payloads nest 6 levels deep (includes.tweets[].entities.urls[]); 100,000 levels exhaust the stack.
MAX_JSON_DEPTH = 32
# Turning a long run of digits into an int is quadratic (Python refuses past 4,300); ids are strings.
MAX_NUMBER_DIGITS = 40
LOG_CHARS = 300

_Parsed = TypeVar("_Parsed")

# Terminal escape sequences: CSI (colours, cursor moves, clearing the screen), OSC (window titles,
# links; up to its terminator or the end of the line), and the two-character ones.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 and C1 control characters but newline and tab, DEL, and lone surrogates (a pair is one code point).
_UNSAFE_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSAFE_IN_FIELD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LANG_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
# X's codes for "no language": undetermined, no linguistic content, media, hashtags, links...
_NO_LANGUAGE = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst"})
_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


def clean_text(text: str) -> str:
    """`text` without escape sequences, control characters (newline and tab stay) or lone surrogates."""
    if not _UNSAFE_IN_TEXT.search(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_IN_TEXT.sub("", _ESCAPE_SEQUENCE.sub("", text))


def trimmed(raw: str | bytes, limit: int = LOG_CHARS) -> str:
    """The start of a raw line or payload, safe for one log line: control characters escaped, cut short."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    cut = _UNSAFE_IN_FIELD.sub(lambda m: m.group().encode("unicode_escape").decode(), text[:limit])
    return cut + ("…" if len(text) > limit else "")


def _safe_field(value: str | None) -> str | None:
    if value is not None and _UNSAFE_IN_FIELD.search(value):
        raise ValueError("contains control characters or broken Unicode")
    return value


class PostRef(BaseModel):
    """A post this one points at: what it retweets, quotes or replies to."""

    model_config = ConfigDict(frozen=True)

    type: Literal["retweeted", "quoted", "replied_to"]
    id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]

    @field_validator("id")
    @classmethod
    def _safe(cls, value: str) -> str | None:
        return _safe_field(value)


class Post(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
    author: Annotated[str | None, Field(max_length=MAX_AUTHOR_CHARS)] = None
    lang: Annotated[str | None, Field(max_length=35)] = None
    created_at: AwareDatetime | None = None
    url: Annotated[str | None, Field(max_length=MAX_URL_CHARS)] = None
    refs: Annotated[tuple[PostRef, ...], Field(max_length=MAX_REFS)] = ()
    source: Annotated[str, Field(min_length=1, max_length=40)] = "file"

    @field_validator("id", "author", "lang", "url", "source")
    @classmethod
    def _safe(cls, value: str | None) -> str | None:
        return _safe_field(value)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("text", mode="before")
    @classmethod
    def _terminal_safe(cls, value: Any) -> Any:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("author")
    @classmethod
    def _handle_without_at(cls, value: str | None) -> str | None:
        return value.lstrip("@") or None if value else None

    @field_validator("lang")
    @classmethod
    def _usable_lang(cls, value: str | None) -> str | None:
        if not value or value.lower() in _NO_LANGUAGE:
            return None
        if not _LANG_CODE.fullmatch(value):
            raise ValueError("not a language code like en or pt-BR")
        return value.lower().replace("_", "-").split("-")[0]

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
    """One input line or payload that is not a usable post; the message says why, without its content."""


class XNoteTweet(BaseModel):
    text: object = None


class XTweet(BaseModel):
    """The part of an X v2 post object we read; Post validates each field's value."""

    id: object = None
    text: object = None
    author_id: object = None
    lang: object = None
    created_at: object = None
    note_tweet: XNoteTweet | None = None
    referenced_tweets: list[PostRef] | None = None


class XUser(BaseModel):
    id: object = None
    username: object = None


class XIncludes(BaseModel):
    users: list[XUser] | None = None


class XPayload(BaseModel):
    data: XTweet
    includes: XIncludes | None = None


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(p) for p in first["loc"]) or "post"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"field '{field}': {first['msg']}{more}"


def _x_post(payload: dict[str, Any], source: str) -> Post:
    if not isinstance(payload.get("data"), dict):
        raise BadPostLine("X v2 object without a 'data' object")
    x = XPayload.model_validate(payload)
    tweet = x.data
    users = (x.includes.users if x.includes else None) or []
    handle = next((u.username for u in users if u.id == tweet.author_id and tweet.author_id), None)
    post_id = tweet.id
    has_link = isinstance(post_id, str | int) and (handle is None or isinstance(handle, str))
    return Post.model_validate(
        {
            "id": post_id,
            "text": (tweet.note_tweet.text if tweet.note_tweet else None) or tweet.text,
            "author": handle,
            "lang": tweet.lang,
            "created_at": tweet.created_at,
            "url": f"https://x.com/{handle or 'i/web'}/status/{post_id}" if has_link else None,
            "refs": tweet.referenced_tweets or (),
            "source": source,
        }
    )


def _parsed(parse: Callable[[], _Parsed]) -> _Parsed:
    """`parse()`, whose every failure becomes a BadPostLine: no input gets past the parser."""
    try:
        return parse()
    except BadPostLine:
        raise
    except ValidationError as exc:
        raise BadPostLine(_problem(exc)) from None
    except RecursionError:
        raise BadPostLine(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    except Exception as exc:  # a payload nobody foresaw is one skipped line, never a stopped source
        raise BadPostLine(f"unreadable ({type(exc).__name__})") from None


def post_from_x_v2(payload: dict[str, Any], source: str = "x") -> Post:
    """A post from an X API v2 object: `{"data": {...}, "includes": {"users": [...]}}`."""
    return _parsed(lambda: _x_post(payload, source))


def _refuse_constant(name: str) -> Any:
    raise BadPostLine(f"{name} is not a JSON number")


def _bounded_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_DIGITS + 1:  # + 1: a minus sign
        raise BadPostLine(f"a number longer than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def _too_deep(line: str) -> bool:
    """Whether brackets outside strings nest past MAX_JSON_DEPTH: one pass over the special characters."""
    depth, in_string, escaped_at = 0, False, -1
    for special in _JSON_SPECIAL.finditer(line):
        char, at = special.group(), special.start()
        if at == escaped_at:
            continue
        if in_string:
            escaped_at = at + 1 if char == "\\" else escaped_at
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _check_shape(line: str) -> None:
    """Refuse, before json.loads, what would exhaust it: overlong lines and deep nesting."""
    if len(line) > MAX_LINE_CHARS:
        raise BadPostLine(f"longer than {MAX_LINE_CHARS:,} characters")
    if line.count("[") + line.count("{") > MAX_JSON_DEPTH and _too_deep(line):
        raise BadPostLine(f"nested more than {MAX_JSON_DEPTH} levels deep")


# One decoder for every line: json.loads with hooks builds a new one per call (a fifth of a line's parsing).
_DECODER = json.JSONDecoder(parse_int=_bounded_int, parse_constant=_refuse_constant)


def json_object(raw: str | bytes) -> dict[str, Any]:
    """One JSON object from a line or payload (bytes are read as UTF-8, bad bytes replaced), bounded."""
    line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    _check_shape(line)
    try:
        obj = _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        raise BadPostLine(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise BadPostLine(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _post(line: str | bytes, source: str) -> Post:
    obj = json_object(line)
    if "data" in obj and "text" not in obj:
        return _x_post(obj, source)
    return Post.model_validate({**obj, "source": obj.get("source", source)})


def parse_post_line(line: str | bytes, source: str = "file") -> Post:
    """A post from one JSONL line, plain or X v2 shaped. Raises BadPostLine and nothing else."""
    return _parsed(lambda: _post(line, source))


def parse_x_payload(raw: str | bytes, source: str = "x-stream") -> Post | None:
    """A post from one X stream message; None for a message that carries none (errors, notices).

    Raises BadPostLine and nothing else."""

    def parse() -> Post | None:
        payload = json_object(raw)
        return _x_post(payload, source) if "data" in payload else None

    return _parsed(parse)


def post_lines(stream: IO[bytes]) -> Iterator[str]:
    """The lines of a file or of stdin, decoded alike: UTF-8 (a BOM skipped, bad bytes replaced) and
    universal newlines (\\n, \\r\\n and a lone \\r each end a line), without their line ending.

    A line longer than MAX_LINE_CHARS comes out cut just past it (the parser refuses it) and the rest
    is skipped unread into memory, so a file without a newline never fills the memory.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=None)
    try:
        while line := text.readline(MAX_LINE_CHARS + 1):
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                while (rest := text.readline(io.DEFAULT_BUFFER_SIZE)) and not rest.endswith("\n"):
                    pass
            yield line.removesuffix("\n")
    finally:
        text.detach()  # the caller owns the stream (stdin stays open)


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
