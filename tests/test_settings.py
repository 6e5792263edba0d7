"""Configuration mistakes (issue 15, finding 8) and --speed (finding 9): one line saying what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.config import Settings, load_settings
from tests.conftest import run_cli

SETTINGS_VARIABLES = [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of the test runner's and no .env file: only what each test sets."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def frontwatch(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        (
            "ADMIN_IDS",
            "abc",
            'ADMIN_IDS: "abc" is not a list of Telegram user ids (numbers, comma-separated)',
        ),
        ("LOG_FORMAT", "xml", 'LOG_FORMAT: "xml" is not text or json'),
        ("HEALTH_PORT", "70000", 'HEALTH_PORT: "70000" is not a port number from 1 to 65535'),
        ("X_MODE", "foo", 'X_MODE: "foo" is not stream, poll or off'),
        ("REDIS_URL", "http://localhost:6379", "must start with redis://, rediss:// or unix://"),
        ("REDIS_URL", "localhost:6379", "must start with redis://, rediss:// or unix://"),
        ("REDIS_URL", "redis://localhost:99999", "the port must be a number from 1 to 65535"),
        ("TELEGRAM_API_BASE", "api.telegram.org", "must start with http:// or https://"),
    ],
)
def test_a_setting_mistake_is_one_line_naming_the_variable_for_every_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variable: str, value: str, line: str
) -> None:
    monkeypatch.setenv(variable, value)
    for command in (["scan", "posts.jsonl"], ["check-rules"], ["replay", "posts.jsonl"]):
        code, err = frontwatch(capsys, *command)
        assert code == 1
        assert len(err) == 1 and err[0].startswith(f"frontwatch: {variable}: ") and line in err[0]


def test_a_redis_password_is_never_printed_in_a_settings_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://admin:s3cret-pw@db.example:99999/0")
    assert frontwatch(capsys, "scan", "posts.jsonl") == (
        1,
        [
            'frontwatch: REDIS_URL: "redis://admin:***@db.example:99999/0" is not a Redis URL '
            "(redis://host:port/db, rediss:// with TLS, or unix:///path/to/redis.sock): "
            "the port must be a number from 1 to 65535"
        ],
    )
    monkeypatch.delenv("REDIS_URL")
    code, err = frontwatch(capsys, "replay", "--redis", "http://db.example/?password=s3cret-pw", "x.jsonl")
    assert code == 1 and len(err) == 1 and err[0].startswith("frontwatch: --redis: ")
    assert "s3cret-pw" not in err[0] and "password=***" in err[0]


def test_several_mistakes_are_one_line_each(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    monkeypatch.setenv("X_MODE", "foo")
    code, err = frontwatch(capsys, "scan", "posts.jsonl")
    assert code == 1
    assert [line.split(":")[1].strip() for line in err] == ["LOG_FORMAT", "X_MODE"]


def test_good_settings_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "1, 22,333")
    monkeypatch.setenv("REDIS_URL", "rediss://:pw@redis.example:6380/1")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081")
    settings = load_settings()
    assert settings.admin_ids == [1, 22, 333]
    assert settings.redis_url == "rediss://:pw@redis.example:6380/1"
    monkeypatch.setenv("REDIS_URL", "unix:///run/redis/redis.sock")
    assert load_settings().redis_url == "unix:///run/redis/redis.sock"


def test_the_real_cli_shows_a_setting_mistake_without_a_traceback() -> None:
    result = run_cli("scan", "-", stdin="", env={"X_MODE": "foo", "HEALTH_PORT": "99999"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        'frontwatch: HEALTH_PORT: "99999" is not a port number from 1 to 65535, '
        "or 0 to turn the health server off",
        'frontwatch: X_MODE: "foo" is not stream, poll or off',
    ]


@pytest.mark.parametrize("speed", ["nan", "-1", "0", "1e-300", "inf", "fast"])
def test_a_speed_that_is_not_a_usable_pace_is_refused(capsys: pytest.CaptureFixture[str], speed: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", "--speed", speed, "posts.jsonl"])
    assert exited.value.code == 2
    [error] = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert f"argument --speed: '{speed}' is not a speed" in error


def test_a_usable_speed_is_accepted() -> None:
    assert build_parser().parse_args(["replay", "--speed", "0.001", "f"]).speed == 0.001
    assert build_parser().parse_args(["replay", "--speed", "3600", "f"]).speed == 3600.0
