"""Flood limits: sliding windows of accepted messages, overall and per chat; an excess is a 429
and a recorded violation.
"""

from __future__ import annotations

import math
from collections import deque

from tests.fakes.telegram_api.chats import _Chat
from tests.fakes.telegram_api.core import _FakeTelegramCore
from tests.fakes.telegram_api.errors import _ApiError


class _Window:
    """Acceptance times within the last `period` seconds: a sliding-window rate limit."""

    def __init__(self, limit: int, period: float, tolerance: float) -> None:
        self.limit = limit
        self.period = period
        # Clients space their calls by their own clock at send time; loopback jitter can make two
        # requests arrive a few milliseconds closer than they were sent, which is not a violation.
        self.tolerance = tolerance
        self.times: deque[float] = deque()

    def retry_after(self, now: float) -> int | None:
        """Seconds until one more message fits, or None when it fits now."""
        while self.times and self.times[0] <= now - self.period + self.tolerance:
            self.times.popleft()
        if len(self.times) < self.limit:
            return None
        return max(1, math.ceil(self.times[0] + self.period - now))

    def add(self, now: float) -> None:
        self.times.append(now)


class _FakeTelegramLimits(_FakeTelegramCore):
    """The windows a message counts against (their state, set by FakeTelegram.__init__, declared here)."""

    _limits: dict[str, tuple[int | None, float]]
    _tolerance: float
    _overall_window: _Window | None
    _chat_windows: dict[int, _Window | None]

    # --- flood limits -------------------------------------------------------------------------

    def _window(self, kind: str) -> _Window | None:
        limit, period = self._limits[kind]
        return None if limit is None else _Window(limit, period, self._tolerance)

    def _chat_window(self, chat: _Chat) -> _Window | None:
        if chat.id not in self._chat_windows:
            self._chat_windows[chat.id] = self._window("private" if chat.type == "private" else "group")
        return self._chat_windows[chat.id]

    def _enforce_limits(self, method: str, chat: _Chat) -> None:
        """Count one message against its limits, or refuse it with 429 and record the violation."""
        now = self._clock()
        windows = [(self._chat_window(chat), "to this chat")]
        if method == "sendMessage":
            windows.append((self._overall_window, "across all chats"))
        active = [(window, scope) for window, scope in windows if window is not None]
        for window, scope in active:
            wait = window.retry_after(now)
            if wait is not None:
                self.violations.append(
                    f"{method} to {chat.type} chat {chat.id}: more than {window.limit} message(s)"
                    f" per {window.period:g} s {scope}"
                )
                raise _ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        for window, _ in active:
            window.add(now)
