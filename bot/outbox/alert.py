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
    # Shown, never counted: a copy, a retweet or quote of a post already seen, a second account
    # of an outlet already counted.
    folded_as: Literal["", "copy", "retweet", "outlet"] = Field("", alias="folded")
    role: str = "other"
    side: str | None = None
    text: str = ""
    denies: bool = False  # a later post saying the place was NOT taken (it contests the event)

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)

    @property
    def folded(self) -> bool:
        return bool(self.folded_as)

    @property
    def is_party(self) -> bool:
        return self.role == "party"


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
    contested: bool = False
    independent_sources: int = Field(0, alias="independent")
    first_source: Source | None = None
    confirm_sources: int = 3
    actor: str | None = None
    change: Literal["fallen", "contested"] = "fallen"  # the rule's kind

    @property
    def headline_verb(self) -> str:
        """What the alert says happened to the place, in the alert's headline."""
        if self.change == "contested":
            return "reported contested (forces entered, fighting inside or part of it held)"
        return "reported fallen or captured"

    @field_validator("geonameid", "country", "lang", "actor", mode="before")
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
    def level(self) -> Level:
        """Where the event stands on the ladder (DESIGN §4): what a desk can act on."""
        return level_of(self)

    @property
    def claimed_by(self) -> list[str]:
        """The sides (parties to the conflict) whose own accounts report it, in order of first report."""
        return list(dict.fromkeys(s.side for s in self.sources_list if s.is_party and s.side))

    @field_validator("first_source", mode="before")
    @classmethod
    def _json_record(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) and value else (value or None)

    @property
    def first_report(self) -> Source | None:
        """The event's first source, kept even when the list holds only the newest ones."""
        return self.first_source or (self.sources_list[0] if self.sources_list else None)

    @property
    def is_contest(self) -> bool:
        """An update carrying a denial: it gets a reply of its own in Telegram (an edit is silent)."""
        return self.kind == "update" and bool(self.sources_list) and self.sources_list[-1].denies

    @property
    def is_confirmation(self) -> bool:
        """An update that has just made the event confirmed: it gets a reply of its own in Telegram."""
        if self.kind != "update" or self.level != "confirmed" or len(self.sources_list) < 2:
            return False
        return level_of(self, self.sources_list[:-1]) != "confirmed"


Level = Literal["single", "corroborated", "party-claim", "confirmed", "contested"]


def level_of(alert: Alert, sources: list[Source] | None = None) -> Level:
    """single -> corroborated (2+ independent) -> party-claim -> confirmed; contested when a party or
    a trusted source denies it after the alert (unless both sides report it).

    Confirmed: two sides of the conflict report it (the side that lost it concedes), or enough
    independent sources that are not parties, one of them trusted (a journalist, an outlet, an
    official body). A party's own claim is never a confirmation.
    """
    sources = alert.sources_list if sources is None else sources
    counted = [s for s in sources if not s.folded and not s.denies]
    neutral = [s for s in counted if not s.is_party]
    sides = {s.side for s in counted if s.is_party and s.side}
    if len(sides) >= 2:
        return "confirmed"  # both sides say so: the side that lost it concedes
    if alert.contested and any(s.denies for s in sources):
        return "contested"
    if len(neutral) >= alert.confirm_sources and any(s.trust >= 2 for s in neutral):
        return "confirmed"
    if sides:
        return "party-claim"
    independent = len(counted) if sources is not alert.sources_list else alert.independent_sources
    return "corroborated" if independent >= 2 else "single"
