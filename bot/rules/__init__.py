"""The rules engine: rules.yaml in, `Detector` out. Pure: no network, no Redis."""

from __future__ import annotations

from pathlib import Path

from bot.rules.compiled import CompiledRules, compile_rules
from bot.rules.engine import Detector
from bot.rules.loader import RuleProblem, RulesError, load_rules, parse_rules
from bot.rules.match import Match

__all__ = [
    "CompiledRules",
    "Detector",
    "Match",
    "RuleProblem",
    "RulesError",
    "compile_rules",
    "load_detector",
    "load_rules",
    "parse_rules",
]


def load_detector(path: Path) -> Detector:
    """Validate rules.yaml at `path`, compile it with its gazetteer, and return a ready detector."""
    return Detector(compile_rules(load_rules(path)))
