"""Back-off for network calls to every service but Telegram's 429s and Redis, in one place (tenacity).

Telegram's flood waits belong to its rate limiter (bot/telegram/limits.py) and Redis reconnects to
redis-py's own `Retry` (bot/store/connection.py). Everything else that may meet a dropped
connection (X requests outside tweepy's stream loop, Telegram network errors, a Redis that stays
down for longer than redis-py retries) waits here: exponential from FIRST to MAX seconds, with
jitter so several processes do not hammer a recovering service in step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_never,
    wait_random_exponential,
)

log = logging.getLogger(__name__)

FIRST_SECONDS = 0.5
MAX_SECONDS = 60.0


def retrying(
    retry_on: Callable[[BaseException], bool],
    what: str,
    attempts: int | None = None,
    first: float = FIRST_SECONDS,
    maximum: float = MAX_SECONDS,
) -> AsyncRetrying:
    """`async for attempt in retrying(...): with attempt: ...` retries what `retry_on` accepts.

    `attempts=None` retries until the caller is cancelled (a source that must come back by itself);
    otherwise the last error is raised after that many tries.
    """
    return AsyncRetrying(
        retry=retry_if_exception(retry_on),
        wait=wait_random_exponential(multiplier=first, max=maximum),
        stop=stop_never if attempts is None else stop_after_attempt(attempts),
        reraise=True,
        before_sleep=_log_wait(what),
    )


def _log_wait(what: str) -> Callable[[RetryCallState], None]:
    def log_it(state: RetryCallState) -> None:
        error: Any = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s failed (%s); retry #%d in %.1f s", what, describe(error), state.attempt_number, wait)

    return log_it


def describe(error: BaseException | None) -> str:
    """One line for an exception: its class and message, never a traceback."""
    if error is None:
        return "unknown error"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
