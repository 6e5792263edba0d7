"""The maintained alias file (bot/rules/data/aliases.yaml): extra place names, provinces and their
capitals, and country names, for the focus countries. Read once when the gazetteer is compiled."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

ALIASES_PATH = Path(__file__).resolve().parent / "data" / "aliases.yaml"


class Province(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(pattern=r"^[A-Z]{2}$")
    capital: int = Field(description="GeoNames id of the province's capital (its PPLA)")
    names: list[str]


class AliasFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    places: dict[int, list[str]] = Field(default_factory=dict)
    # Names that are everyday words ("سنگین", heavy), read as the place only beside a region, centre
    # or town word ("د سنګین ولسوالۍ مرکز", "مرکز ولسوالی سنگین", "شهرک سنگین").
    beside_region: dict[int, list[str]] = Field(default_factory=dict)
    provinces: list[Province] = Field(default_factory=list)
    countries: dict[str, list[str]] = Field(default_factory=dict)


class _UniqueKeys(yaml.SafeLoader):
    """YAML keeps the last of two equal keys without a word; here the second is an error, as one
    place listed twice would lose the first list of names."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ValueError(f"{self.name}:{line}: '{key}' is listed twice; merge the two lists")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@cache
def load_aliases(path: Path = ALIASES_PATH) -> AliasFile:
    with path.open(encoding="utf-8") as fh:
        return AliasFile.model_validate(yaml.load(fh, Loader=_UniqueKeys) or {})


def aliases_digest(path: Path = ALIASES_PATH) -> str:
    """Changes whenever the alias file does, so the gazetteer cache is rebuilt."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
