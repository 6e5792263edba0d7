"""What it costs each source to turn what its network sends into a `Post`, per post, against the JSONL
parser (`parse_post_line`, what `replay` and `scan` read) in the same run.

    python bench/source_parse.py [--posts 5000]

Parsing only, no network: a Jetstream event (JSON, validated, a Post built), a Mastodon status (JSON,
its HTML to text), a Telegram channel preview page (HTML5 parse of 20 messages) and an RSS and an Atom
document (feedparser, 20 entries), each built the way the tests' fake servers send them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.posts import json_object, parse_post_line  # noqa: E402
from bot.sources.bluesky import BlueskySource, Event  # noqa: E402
from bot.sources.feeds import entry_post, parse_feed  # noqa: E402
from bot.sources.mastodon import Status, status_post  # noqa: E402
from bot.sources.telegram_channels import ChannelPreviewSource, messages  # noqa: E402
from bot.store.keys import Keys  # noqa: E402
from tests.fakes.feeds import FakeFeeds  # noqa: E402
from tests.fakes.jetstream import BlueskyNetwork, FakeJetstream  # noqa: E402
from tests.fakes.mastodon_api import FakeMastodon  # noqa: E402
from tests.fakes.tg_preview import FakeTelegramPreview  # noqa: E402

TEXTS = [
    line["text"]
    for line in map(json.loads, (REPO / "examples" / "mazar-i-sharif.jsonl").read_text("utf-8").splitlines())
]
PAGE = 20  # messages on a Telegram preview page, entries in a feed document


def per_post(run: Callable[[], int], posts: int) -> float:
    """Microseconds per post of `run` (which parses some posts and returns how many), best of 3."""
    best = float("inf")
    for _ in range(3):
        done, start = 0, time.perf_counter()
        while done < posts:
            done += run()
        best = min(best, (time.perf_counter() - start) / done)
    return best * 1e6


def jsonl_lines() -> list[str]:
    return [json.dumps({"id": str(i), "text": t, "author": "a", "lang": "en"}) for i, t in enumerate(TEXTS)]


def jetstream_events() -> tuple[list[str], BlueskySource]:
    network = BlueskyNetwork()
    did = network.add_account("bilal.bsky.social")
    stream = FakeJetstream(network)
    events = [stream.event(network._commit(did, "app.bsky.feed.post", _record(t))) for t in TEXTS]
    source = BlueskySource(["ws://127.0.0.1:1/subscribe"], "http://127.0.0.1:1", None, Keys(), [])  # type: ignore[arg-type]
    source.handles[did] = "bilal.bsky.social"
    return events, source


def _record(text: str) -> dict[str, object]:
    return {"$type": "app.bsky.feed.post", "text": text, "langs": ["en"], "createdAt": "2021-08-14T15:42:00Z"}


def bluesky(events: list[str], source: BlueskySource) -> Callable[[], int]:
    def run() -> int:
        for raw in events:
            event = Event.model_validate(json_object(raw))
            assert event.commit is not None and event.commit.record is not None
            uri = f"at://{event.did}/app.bsky.feed.post/{event.commit.rkey}"
            source._from_record(event.did, uri, event.commit.record, [], uri)
        return len(events)

    return run


def mastodon() -> Callable[[], int]:
    server = FakeMastodon()
    server._port = 443  # URLs only, never started
    server.add_account("bilal")
    statuses = [json.dumps(server.post("bilal", t)) for t in TEXTS]

    def run() -> int:
        for raw in statuses:
            status_post(Status.model_validate(json_object(raw)), "bilal@mastodon.social", "mastodon.social")
        return len(statuses)

    return run


def telegram() -> Callable[[], int]:
    tme = FakeTelegramPreview()
    channel = tme.add_channel("TOLOnews")
    for i in range(PAGE):
        tme.post("TOLOnews", TEXTS[i % len(TEXTS)])
    page = tme._page(channel, None).encode()  # the page as served
    source = ChannelPreviewSource("https://t.me", None, Keys(), [])  # type: ignore[arg-type]

    def run() -> int:
        return len(source._posts(messages(page)[0]))

    return run


def feed(kind: str) -> Callable[[], int]:
    site = FakeFeeds()
    site._port = 443  # URLs only, never started
    site.add_feed("world", kind)
    for i in range(PAGE):
        site.publish("world", TEXTS[i % len(TEXTS)], f"<p>{TEXTS[(i + 1) % len(TEXTS)]}</p>", kind=kind)
    body = site._document(site.feeds[f"/world.{kind}"]).encode()  # the feed as served

    def run() -> int:
        parsed = parse_feed(body, f"application/{kind}+xml")
        for entry in parsed.entries:
            entry_post("https://example.org/world", "example.org", "en", entry)
        return len(parsed.entries)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    args = parser.parse_args()
    lines = jsonl_lines()
    baseline = per_post(lambda: len([parse_post_line(line) for line in lines]), args.posts)
    events, source = jetstream_events()
    rows = [
        ("JSONL line (baseline: replay, scan)", baseline),
        ("Bluesky: Jetstream event", per_post(bluesky(events, source), args.posts)),
        ("Mastodon: status (HTML to text)", per_post(mastodon(), args.posts)),
        ("Telegram channel: preview page", per_post(telegram(), args.posts)),
        ("RSS 2.0 document", per_post(feed("rss"), args.posts)),
        ("Atom 1.0 document", per_post(feed("atom"), args.posts)),
    ]
    print(f"parse cost per post, best of 3 runs of {args.posts} posts")
    for name, micros in rows:
        print(f"  {name:<38} {micros:8.1f} µs  {micros / baseline:6.1f}x the JSONL line")


if __name__ == "__main__":
    main()
