"""Settings from the environment and an optional `.env` file. Secrets are SecretStr: never printed.

A value that cannot be used is a `SettingsError`: one line per variable, naming it and saying what it
should look like, shown by the CLI instead of a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from bot.store.keys import DEFAULT_PREFIX

REDIS_URL_SHAPE = "a Redis URL (redis://host:port/db, rediss:// with TLS, or unix:///path/to/redis.sock)"
SHOWN_VALUE_CHARS = 80
_BOT_TOKEN = re.compile(r"\d+:[\w-]{20,}")  # a token pasted in the wrong variable is still not printed

# What each variable should look like, for the line that says it does not.
EXPECTED = {
    "telegram_api_base": "an http(s) URL, like https://api.telegram.org",
    "admin_ids": "a list of Telegram user ids (numbers, comma-separated)",
    "redis_url": REDIS_URL_SHAPE,
    "rules_path": "a file path",
    "log_format": "text or json",
    "max_subscriptions_per_chat": "a whole number from 1 to 500",
    "health_port": "a port number from 1 to 65535, or 0 to turn the health server off",
    "x_mode": "stream, poll or off",
    "x_api_base": "an http(s) URL, like https://api.x.com",
    "x_max_rules": "a whole number, at least 1",
    "x_max_rule_chars": "a whole number, at least 32",
    "x_poll_seconds": "a whole number of seconds, at least 10",
    "x_monthly_read_budget": "a whole number, at least 1",
    "sources": "a comma-separated list of x, bsky, mastodon, tg, rss",
    "bsky_jetstream_url": "comma-separated ws(s):// URLs of Jetstream instances, like"
    " wss://jetstream2.us-east.bsky.network/subscribe",
    "bsky_api_base": "an http(s) URL, like https://public.api.bsky.app",
    "tg_preview_base": "an http(s) URL, like https://t.me",
    "rss_poll_seconds": "a whole number of seconds, at least 10",
    "mastodon_poll_seconds": "a whole number of seconds, at least 10",
    "tg_poll_seconds": "a whole number of seconds, at least 10",
}
SECRETS = frozenset({"telegram_bot_token", "x_bearer_token", "mastodon_access_tokens"})
SOURCE_NETWORKS = ("x", "bsky", "mastodon", "tg", "rss")
# Bluesky's public Jetstream instances (https://github.com/bluesky-social/jetstream#public-instances).
PUBLIC_JETSTREAMS = [
    f"wss://jetstream{n}.{region}.bsky.network/subscribe" for region in ("us-east", "us-west") for n in (1, 2)
]


class SettingsError(Exception):
    """Settings that cannot be used; `problems` holds one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Why(ValueError):
    """A validator's own reason, worth adding to the line after what the value should look like."""


# Query parameters redis-py reads credentials from (redis://host?password=...), masked like user-info.
_SECRET_PARAMS = frozenset({"password", "pass", "pwd", "username", "user", "token", "secret"})


def masked_url(url: str) -> str:
    """`url` with any password (in the user-info or the query) replaced by ***, safe to print.

    Never raises: an unreadable URL has its user-info hidden by pattern."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(?<=://).*@", "***@", url, count=1, flags=re.DOTALL)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if has_password and user else f"***@{host}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    if netloc == parts.netloc and "***" not in query:
        return url  # nothing secret (and unix:/// URLs keep their slashes)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redis_url_problem(url: str) -> str | None:
    """Why redis-py could not use `url`, or None: a scheme it knows, a port from 1 to 65535, a number db."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the port must be a number from 1 to 65535"
    if parts.scheme not in ("redis", "rediss", "unix"):
        return "it must start with redis://, rediss:// or unix://"
    if parts.scheme == "unix":
        return None if parts.path else "a unix:// URL needs the socket's path, like unix:///run/redis.sock"
    if port == 0:
        return "the port must be a number from 1 to 65535"
    if parts.path.strip("/") and not parts.path.strip("/").isdigit():
        return "the database after the host must be a number, like /0"
    return None


def check_redis_url(url: str, name: str = "REDIS_URL") -> str:
    """`url` if it is a usable Redis URL; else a SettingsError naming `name` (its password never shown)."""
    why = redis_url_problem(url)
    if why is not None:
        raise SettingsError([f"{name}: {_shown(masked_url(url))} is not {REDIS_URL_SHAPE}: {why}"])
    return url


def _http_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise _Why("its port must be a number from 1 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Why("it must start with http:// or https:// and name a host")
    return url


def _shown(value: object) -> str:
    text = _BOT_TOKEN.sub("***", value if isinstance(value, str) else str(value))
    text = text.encode("utf-8", "backslashreplace").decode()  # undecodable bytes of the environment
    if len(text) > SHOWN_VALUE_CHARS:
        text = text[:SHOWN_VALUE_CHARS] + "…"
    return json.dumps(text, ensure_ascii=False)


def _problem_line(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    name = field.upper() or "settings"
    if field in SECRETS:
        return f"{name}: {error['msg']}"
    value = masked_url(str(error["input"])) if field == "redis_url" else error["input"]
    expected = EXPECTED.get(field)
    if expected is None:
        return f"{name}: {_shown(value)}: {error['msg']}"
    why = error.get("ctx", {}).get("error")
    return f"{name}: {_shown(value)} is not {expected}" + (f": {why}" if isinstance(why, _Why) else "")


class Settings(BaseSettings):
    # An empty value means unset (DESIGN §4): `cp .env.example .env` leaves every default in force.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: SecretStr | None = Field(None, description="from @BotFather")
    telegram_api_base: str = Field(
        "https://api.telegram.org", description="Bot API server (a self-hosted one, or the tests' fake)"
    )
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids allowed /reload and /stats, comma-separated"
    )
    redis_url: str | None = Field(None, description="unset: the embedded redis-server")
    rules_path: Path | None = Field(None, description="unset: ./rules.yaml, else the bundled file")
    frontwatch_namespace: str = Field(DEFAULT_PREFIX, description="prefix of every Redis key")
    log_format: Literal["text", "json"] = "text"
    max_subscriptions_per_chat: int = Field(25, ge=1, le=500)
    health_host: str = Field("127.0.0.1", description="address of /healthz and /metrics")
    health_port: int = Field(8686, ge=0, le=65535, description="0 turns the health server off")

    x_bearer_token: SecretStr | None = Field(
        None, description="app-only bearer token from the X developer portal"
    )
    x_mode: Literal["stream", "poll", "off"] = Field(
        "off", description="filtered stream, timeline polling, or none"
    )
    x_api_base: str = "https://api.x.com"
    x_max_rules: int = Field(1000, ge=1, description="filtered-stream rules your access level allows")
    x_max_rule_chars: int = Field(1024, ge=32, description="characters per stream rule at your access level")
    x_poll_seconds: int = Field(300, ge=10, description="seconds between timeline polls")
    x_monthly_read_budget: int = Field(10_000, ge=1, description="posts your plan lets you read a month")

    sources: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="networks to read (x, bsky, mastodon, tg, rss); unset: every network with accounts",
    )
    bsky_jetstream_url: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(PUBLIC_JETSTREAMS),
        description="Jetstream instances, comma-separated; the next is tried when one fails",
    )
    bsky_api_base: str = Field("https://public.api.bsky.app", description="AppView: handles to DIDs, reposts")
    tg_preview_base: str = Field("https://t.me", description="Telegram's public channel preview (t.me/s/...)")
    rss_poll_seconds: int = Field(300, ge=10, description="seconds between reads of each RSS/Atom feed")
    mastodon_poll_seconds: int = Field(60, ge=10, description="seconds between Mastodon timeline polls")
    tg_poll_seconds: int = Field(60, ge=10, description="seconds between Telegram channel preview polls")
    mastodon_access_tokens: SecretStr | None = Field(
        None, description="server=token pairs, comma-separated, for servers that require a token"
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part for part in value.replace(" ", "").split(",") if part]
            if not all(part.isascii() and part.isdigit() for part in parts):
                raise ValueError("not a list of numbers")
            return [int(part) for part in parts]
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            names = [part.strip().lower() for part in value.split(",") if part.strip()]
            if any(name not in SOURCE_NETWORKS for name in names):
                raise ValueError("not a list of networks")
            return names
        return value

    @field_validator("bsky_jetstream_url", mode="before")
    @classmethod
    def _websocket_urls(cls, value: object) -> object:
        urls = [u.strip() for u in value.split(",") if u.strip()] if isinstance(value, str) else value
        if not isinstance(urls, list) or not urls:
            raise ValueError("no URL")
        for url in urls:
            if (
                not isinstance(url, str)
                or urlsplit(url).scheme not in ("ws", "wss")
                or not urlsplit(url).netloc
            ):
                raise _Why(f"{url!r} does not start with ws:// or wss:// and name a host")
        return urls

    @field_validator(
        "redis_url", "telegram_bot_token", "x_bearer_token", "mastodon_access_tokens", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("redis_url")
    @classmethod
    def _usable_redis_url(cls, value: str | None) -> str | None:
        why = None if value is None else redis_url_problem(value)
        if why is not None:
            raise _Why(why)
        return value

    @field_validator("telegram_api_base", "x_api_base", "bsky_api_base", "tg_preview_base")
    @classmethod
    def _http_base(cls, value: str) -> str:
        return _http_url(value)


def load_settings(**values: Any) -> Settings:
    """Settings from the environment and `.env` (and `values`); a SettingsError if any cannot be used."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError([_problem_line(e) for e in exc.errors(include_url=False)]) from None
    except SourceError as exc:
        raise SettingsError([str(exc)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError([f".env: cannot be read ({exc})"]) from None
