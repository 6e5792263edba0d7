"""Settings from the environment and an optional `.env` file. Secrets are SecretStr: never printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.store.keys import DEFAULT_PREFIX


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

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator("redis_url", "telegram_bot_token", "x_bearer_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value
