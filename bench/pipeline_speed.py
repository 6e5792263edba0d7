"""The Redis pipeline measured on the embedded redis-server: round trips, throughput, latency, memory.

    python bench/pipeline_speed.py [--posts 20000] [--tracked 1000000]

- Redis commands per post on the realistic mix of bench/scan_speed.py (unmatched posts never touch
  Redis; a matched post is one script call). Target: at most 2, pipelined.
- Posts per second through detect + record, one process, one connection. Target: >= 5,000.
- Latency from a post entering the pipeline to its alert reaching a sink (the dispatcher running
  alongside), p50 and p99. Targets: 50 ms and 250 ms.
- Redis memory per tracked post after N matched posts, against a naive layout of one
  `SET post:<id> NX EX` key per post measured in the same run. Target: under 200 bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis.asyncio as aioredis  # noqa: E402

from bench.embedded_redis import embedded_client  # noqa: E402
from bench.scan_speed import make_stream  # noqa: E402
from bot.outbox.alert import Alert  # noqa: E402
from bot.outbox.consumer import OutboxConsumer  # noqa: E402
from bot.posts import Post  # noqa: E402
from bot.rules import Detector, compile_rules, load_rules  # noqa: E402
from bot.runtime.pipeline import Pipeline, build_pipeline  # noqa: E402
from bot.store.events import EventRecorder, speakers_from, text_fingerprint  # noqa: E402
from bot.store.keys import SEEN_TTL_SECONDS, Keys  # noqa: E402


class RoundTrips:
    """Counts the commands a client sends (each script call is one, whatever it runs inside Redis)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.count = 0
        original: Any = client.execute_command

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(*args, **kwargs)

        client.execute_command = counted  # type: ignore[method-assign]


async def used_memory(client: aioredis.Redis) -> int:
    info: dict[str, Any] = await client.info("memory")
    return int(info["used_memory"])


def pipeline_for(client: aioredis.Redis, detector: Detector, prefix: str) -> Pipeline:
    return build_pipeline(detector.compiled, client, Keys(prefix))


async def throughput(client: aioredis.Redis, detector: Detector, posts: list[Post]) -> tuple[float, float]:
    counted = aioredis.Redis.from_url(client_url(client), decode_responses=True)
    trips = RoundTrips(counted)
    pipeline = pipeline_for(counted, detector, "bench-rate:")
    for post in posts[:200]:  # warm-up: langdetect loads its profiles on first use
        detector.detect(post)
    start = time.perf_counter()
    for post in posts:
        await pipeline.submit(post)
    elapsed = time.perf_counter() - start
    await counted.aclose()
    return len(posts) / elapsed, trips.count / len(posts)


class StampTarget:
    name = "bench"

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    async def deliver(self, entry_id: str, alert: Alert) -> None:
        self.arrived[alert.sources_list[-1].post_id] = time.perf_counter()


async def latency(client: aioredis.Redis, detector: Detector, count: int) -> list[float]:
    prefix = "bench-latency:"
    pipeline = pipeline_for(client, detector, prefix)
    target = StampTarget()
    dispatcher = OutboxConsumer(
        client.__class__.from_url(client_url(client), decode_responses=True), Keys(prefix), [target], "bench"
    )
    await dispatcher.ensure_group()
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    sent: dict[str, float] = {}
    cities = ["Kunduz", "Taloqan", "Ghazni", "Herat", "Kandahar", "Zaranj", "Farah", "Faizabad"]
    for i in range(count):
        post = Post(id=f"lat-{i}", text=f"{cities[i % len(cities)]} has fallen.", author=f"reporter{i}")
        sent[post.id] = time.perf_counter()
        await pipeline.submit(post)
        await asyncio.sleep(0.002)
    deadline = time.monotonic() + 30
    while len(target.arrived) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    stop.set()
    await running
    await dispatcher.client.aclose()
    return sorted((target.arrived[k] - sent[k]) * 1000 for k in target.arrived)


def client_url(client: aioredis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"unix://{kwargs['path']}" if "path" in kwargs else f"redis://{kwargs['host']}:{kwargs['port']}"


async def memory_per_post(client: aioredis.Redis, detector: Detector, tracked: int) -> tuple[float, float]:
    """Bytes per matched post: ours (the real script, pipelined in batches) and one key per post."""
    rules = {r.id: r for r in detector.compiled.source.rules}
    recorder = EventRecorder(client, rules, speakers_from(detector.compiled.source), Keys("bench-mem:"))
    template = Post(id="0", text="Kunduz has fallen.", author="reporter")
    matches = detector.detect(template)
    await client.flushdb()
    before = await used_memory(client)
    batch = 2000
    base_id = 1_426_560_000_000_000_000
    now = time.time()
    for start in range(0, tracked, batch):
        pipe = client.pipeline(transaction=False)
        for n in range(start, min(start + batch, tracked)):
            # Realistic clustering: each event gathers a few dozen distinct authors, most posts repeat one.
            post = Post(
                id=str(base_id + n), text=f"Kunduz has fallen, update {n}.", author=f"reporter{n % 40}"
            )
            await recorder.script(
                keys=recorder.script_keys(matches), args=recorder.script_args(post, matches, now), client=pipe
            )
        await pipe.execute()
    ours = (await used_memory(client) - before) / tracked
    del recorder
    await client.flushdb()
    before = await used_memory(client)
    for start in range(0, tracked, batch):
        pipe = client.pipeline(transaction=False)
        for n in range(start, min(start + batch, tracked)):
            pipe.set(f"fw:post:{base_id + n}", 1, nx=True, ex=SEEN_TTL_SECONDS)
            pipe.set(f"fw:text:{text_fingerprint(str(n))}", 1, nx=True, ex=SEEN_TTL_SECONDS)
        await pipe.execute()
    naive = (await used_memory(client) - before) / tracked
    await client.flushdb()
    return ours, naive


async def main_async(args: argparse.Namespace) -> None:
    detector = Detector(compile_rules(load_rules(REPO / "rules.yaml")))
    async with embedded_client() as client:
        posts = make_stream(args.posts)
        rate, per_post = await throughput(client, detector, posts)
        matched = sum(1 for p in posts if detector.detect(p))
        lat = await latency(client, detector, args.latency_posts)
        ours, naive = await memory_per_post(client, detector, args.tracked)
    print(f"stream: {len(posts):,} posts, {matched:,} matched (realistic mix of bench/scan_speed.py)")
    per_matched = per_post * len(posts) / max(matched, 1)
    print(f"Redis round trips per post: {per_post:.3f} overall, {per_matched:.2f} per matched post")
    print(f"throughput, detect + record: {rate:,.0f} posts/s")
    p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
    print(f"latency post -> sink over {len(lat)} alerts/updates: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"Redis memory per tracked post after {args.tracked:,}: {ours:.0f} bytes")
    print(f"  the same posts as one key each (naive baseline): {naive:.0f} bytes")
    print(
        json.dumps(
            {
                "posts_per_s": round(rate),
                "commands_per_post": round(per_post, 3),
                "p50_ms": round(p50, 1),
                "p99_ms": round(p99, 1),
                "bytes_per_post": round(ours),
                "naive_bytes_per_post": round(naive),
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--latency-posts", type=int, default=500)
    parser.add_argument("--tracked", type=int, default=1_000_000)
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
