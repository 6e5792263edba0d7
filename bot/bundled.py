"""Files shipped inside the package: the default rules.yaml and the Mazar-i-Sharif demo scenario.

An installed wheel carries them in `bot/bundled/`; a source checkout reads them from the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0]


def bundled_rules() -> Path:
    return _first_existing(_PACKAGE / "bundled" / "rules.yaml", _REPO / "rules.yaml")


def demo_scenario() -> Path:
    return _first_existing(
        _PACKAGE / "bundled" / "mazar-i-sharif.jsonl", _REPO / "examples" / "mazar-i-sharif.jsonl"
    )


def default_rules_path(cwd: Path | None = None) -> Path:
    """`./rules.yaml` when the working directory has one, else the bundled file (DESIGN §3)."""
    local = (cwd or Path.cwd()) / "rules.yaml"
    return local if local.is_file() else bundled_rules()
