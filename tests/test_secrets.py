"""No token or password reaches the terminal: URLs masked, unexpected errors one redacted line."""

from __future__ import annotations

import argparse
import logging

import pytest

import bot.cli
from bot.config import masked_url
from bot.runtime.logs import RedactSecrets

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://***@cache:6379/0"),
        ("redis://bob:s3cret@cache/1", "redis://bob:***@cache/1"),
        ("redis://cache/0?password=s3cret&db=2", "redis://cache/0?password=***&db=2"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
        ("redis://s3cret@cache:99999/0", "redis://***@cache:99999/0"),
    ],
)
def test_a_redis_url_is_shown_without_its_password_wherever_it_is_written(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_an_unexpected_error_is_one_line_without_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(args: argparse.Namespace) -> int:
        raise RuntimeError(f"request to https://api.telegram.org/bot{TOKEN}/getMe failed")

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setattr(bot.cli, "cmd_check_rules", explode)
    assert bot.cli.main(["check-rules"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("frontwatch: unexpected error: RuntimeError")
    assert TOKEN not in err and TOKEN.split(":")[1] not in err


def test_a_logged_traceback_is_redacted_too() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "handler failed", None, None)
    try:
        raise ValueError(f"bad url https://api.telegram.org/bot{TOKEN}/sendMessage")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSecrets([TOKEN]).filter(record)
    text = record.getMessage()
    assert "ValueError" in text and TOKEN not in text and record.exc_info is None
