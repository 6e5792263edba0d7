"""`Match`: one rule recognised in one post, at one place. The Match JSONL of `frontwatch scan`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Match(BaseModel):
    model_config = ConfigDict(frozen=True)

    post_id: str
    rule: str
    location: str
    geonameid: int | None
    country: str | None
    lang: str | None
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str]
    author: str | None = None
    # Who took the place, when the text says so, by the name in rules.yaml's `actors` list.
    actor: str | None = None
    # The rule's kind: the place fell, or it is entered, encircled or partly held.
    kind: Literal["fallen", "contested"] = "fallen"
