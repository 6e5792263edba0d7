"""What every part of FakeTelegram shares: the state FakeTelegram.__init__ sets, declared once so
that each part type-checks on its own.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable

from tests.fakes.loopback import LoopbackServer
from tests.fakes.telegram_api.params import Handler
from tests.fakes.telegram_api.records import ApiCall, SentMessage, _Fault
from tests.fakes.telegram_api.spec import JsonDict


class _FakeTelegramCore(LoopbackServer):
    """The state FakeTelegram's parts work on (FakeTelegram.__init__ sets it)."""

    token: str
    bot_id: int
    sent: list[SentMessage]
    requests: list[ApiCall]
    violations: list[str]
    responses: Counter[int]
    _clock: Callable[[], float]
    _faults: dict[str, deque[_Fault]]
    _updates: list[JsonDict]
    _last_update_id: int
    _last_callback_id: int
    _open_callbacks: set[str]
    _commands: dict[tuple[str, str], list[JsonDict]]
    _arrival: asyncio.Event
    _poll_generation: int
    _closing: bool
    _methods: dict[str, Handler]
    _method_names: dict[str, str]
