"""Several `frontwatch run` processes on one Redis and one bot token (tests/fleet.py), against the
fake Bot API (409 for overlapping getUpdates, 429 past Telegram's limits) and the fake X stream.

    python bench/several_processes.py [--processes 3] [--chats 300]

- Fan-out of one alert to N chats by the processes together: first to last sendMessage, against
  the token's minimum (N / 30 s); 429s, limit violations and 409s seen by the server.
  Targets: within 10% of the minimum, zero 429s, zero 409s in steady state.
- Takeover after kill -9 of the process that polls Telegram and holds the X stream: seconds until
  another holds both leases, answers /start and has the stream open again. Target: 15 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from bot.telegram.limits import OVERALL_PER_SECOND  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fleet import POLLING_ROLE, fleet_on_fakes  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.test_several_processes import FIRST  # noqa: E402
from tests.test_x_e2e import WATCHED  # noqa: E402

ASKING = 9001


async def until(condition: Callable[[], bool], timeout: float = 120) -> float:
    """Seconds until `condition()` holds (polled every 20 ms)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"gave up after {timeout:.0f} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def measure(processes: int, chats: int, workdir: Path) -> None:
    redis = RedisServer(workdir / "redis")
    redis.start()
    try:
        async with fleet_on_fakes(workdir, redis.url, "bench-fleet:", range(1, chats + 1)) as (
            fleet,
            telegram,
            x,
        ):
            fleet.start()
            holder = await fleet.wait_for_holder(POLLING_ROLE)
            await x.wait_for_stream(timeout=60)
            for _ in range(processes - 1):
                fleet.start()
            await asyncio.sleep(5)  # the others start and stay standby
            x.post(WATCHED["BilalSarwary"], FIRST, lang="en")
            await until(lambda: all(telegram.messages_to(c) for c in range(1, chats + 1)))
            report_fan_out(telegram, chats, processes, workdir)
            killed_at = time.monotonic()
            fleet.kill(holder)
            await fleet.wait_for_holder(POLLING_ROLE, other_than=holder, timeout=120)
            polling = time.monotonic() - killed_at
            await until(lambda: x.stream_open and x.stream_connections >= 2)
            stream = time.monotonic() - killed_at
            telegram.send_user_message(ASKING, "/start")
            await until(lambda: len(telegram.messages_to(ASKING)) >= 1)
            answered = time.monotonic() - killed_at
            print(
                f"kill -9 of the poller and stream holder: polling lease taken {polling:.1f} s after, stream "
                f"open again {stream:.1f} s after, /start answered {answered:.1f} s after (target 15 s)"
            )
    finally:
        redis.stop()


def report_fan_out(telegram: FakeTelegram, chats: int, processes: int, workdir: Path) -> None:
    times = sorted(s.time for s in telegram.sent if s.method == "sendMessage")
    spread = times[-1] - times[0]
    minimum = (chats - 1) / OVERALL_PER_SECOND
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    print(
        f"fan-out to {chats} chats, {processes} processes: {spread:.2f} s, minimum {minimum:.2f} s "
        f"({spread / minimum:.2f}x); busiest second {busiest} messages; 429s {telegram.count_429}, "
        f"violations {len(telegram.violations)}, 409s {telegram.responses[409]}"
    )
    for path in sorted(workdir.glob("bot-*.log")):
        sends = sum("-> chat" in line for line in path.read_text().splitlines())
        print(f"  {path.name}: {sends} messages sent")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--chats", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(measure(args.processes, args.chats, Path(workdir)))


if __name__ == "__main__":
    main()
