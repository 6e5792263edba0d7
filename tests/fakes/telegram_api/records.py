"""What the fake records: the messages and calls a test reads, and the faults it was told to inject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram_api.spec import JsonDict

# --- records a test reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """One accepted sendMessage or editMessageText call, with the text exactly as the bot sent it."""

    method: str
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: Any
    reply_to_message_id: int | None
    time: float


@dataclass
class ApiCall:
    """Any request to a Bot API method, accepted or not; `params` as received (form values are strings)."""

    method: str
    params: JsonDict
    time: float
    status: int = 0


@dataclass(frozen=True)
class _Fault:
    status: int
    description: str
    retry_after: int | None
