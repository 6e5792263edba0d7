"""Shared fixtures: the bundled rules compiled once per test session."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.posts import Post
from bot.rules import Detector, Match, compile_rules, load_rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def detector() -> Detector:
    return Detector(compile_rules(load_rules(REPO / "rules.yaml")))


@pytest.fixture(scope="session")
def detect(detector: Detector) -> Callable[..., list[Match]]:
    def run(
        text: str, lang: str | None = None, created_at: str = "2024-05-01T10:00:00Z", **extra: object
    ) -> list[Match]:
        return detector.detect(
            Post.model_validate({"id": "t1", "text": text, "lang": lang, "created_at": created_at, **extra})
        )

    return run


def run_cli(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`frontwatch ARGS` as a user runs it: a separate process, exit code and both streams captured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=120,
    )
