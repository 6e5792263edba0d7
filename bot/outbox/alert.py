"""`Alert`: one outbox entry (an alert or an update of one) as read back from the Redis stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Source(BaseModel):
    """One author who reported the event: who, how trusted, when, and the link to the post."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    author: str | None = None
    trust: int = 0
    at: float = 0.0
    url: str | None = None
    post_id: str
    lang: str | None = None
    copy_of_earlier: bool = Field(False, alias="copy")

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["alert", "update"]
    event_id: str
    rule: str
    location: str
    geonameid: int | None = None
    country: str | None = None
    lang: str | None = None
    sources: int
    confidence: float = 0.0
    evidence: list[str] = Field(default_factory=list)
    sources_list: list[Source] = Field(default_factory=list)
    first_at: float = 0.0
    # An opt-in rule's alerts go only to chats that follow that rule by name (city-contested).
    opt_in: bool = False
    change: Literal["fallen", "contested"] = "fallen"  # the rule's kind

    @property
    def headline_verb(self) -> str:
        """What the alert says happened to the place, in the alert's headline."""
        if self.change == "contested":
            return "reported contested (forces entered, fighting inside or part of it held)"
        return "reported fallen or captured"

    @field_validator("geonameid", "country", "lang", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("evidence", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("sources_list", mode="before")
    @classmethod
    def _json_records(cls, value: object) -> object:
        records = json.loads(value) if isinstance(value, str) else value
        if not isinstance(records, list):  # Lua encodes an empty list as {}
            return []
        return [json.loads(r) if isinstance(r, str) else r for r in records]

    @classmethod
    def from_stream(cls, fields: dict[str, str]) -> Alert:
        return cls.model_validate(fields)

    @property
    def post_ids(self) -> list[str]:
        return [s.post_id for s in self.sources_list]

    @property
    def is_confirmation(self) -> bool:
        """An update whose newest source is an official (trust 3) when no earlier source was."""
        if self.kind != "update" or not self.sources_list:
            return False
        *earlier, newest = self.sources_list
        return newest.trust >= 3 and all(s.trust < 3 for s in earlier)
