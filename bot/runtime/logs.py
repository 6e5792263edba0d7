"""Logging: one line per event, human-readable or JSON (LOG_FORMAT=json), secrets never written.

python-telegram-bot's HTTP client logs each request URL, which holds the bot token; every record
passes a filter that replaces tokens (and any configured secret) before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime

_TELEGRAM_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9%._~+/-]{16,}=*", re.IGNORECASE)


def redact(text: str, secrets: list[str]) -> str:
    """`text` with bot tokens, bearer tokens and every configured secret replaced."""
    clean = _BEARER.sub(r"\1<secret>", _TELEGRAM_TOKEN.sub("<telegram-token>", text))
    for secret in secrets:
        if secret and len(secret) >= 6:
            clean = clean.replace(secret, "<secret>")
    return clean


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback can quote a token (a URL in an exception's message): keep it in the text
            # where it is redacted, not in exc_info where the formatter would print it raw.
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info, record.exc_text = None, None
        clean = redact(message, self.secrets)
        if clean != record.getMessage():
            record.msg, record.args = clean, None
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int, fmt: str = "text", secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(secrets or []))
    if fmt == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Request-by-request lines from the HTTP clients are noise at INFO (and carry the token in URLs).
    for noisy in ("httpx", "httpcore", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
