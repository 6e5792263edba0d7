"""Every Redis key frontwatch writes, with its lifetime. Nothing else builds key strings.

All keys start with a namespace prefix (default `fw:`), so several deployments or a demo can share
one Redis. Layout and sizes are described in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "fw:"

# Seen post ids and text fingerprints live in time buckets (one Redis set per bucket) rather than a
# key per post: a set member costs tens of bytes where a key costs about a hundred.
SEEN_BUCKET_SECONDS = 6 * 3600
SEEN_TTL_SECONDS = 3 * 24 * 3600  # a repeat of a post older than this is no longer recognised
SEEN_BUCKETS = SEEN_TTL_SECONDS // SEEN_BUCKET_SECONDS + 1
# An event's keys outlive its window by this much, so late corroboration still finds the event.
EVENT_GRACE_SECONDS = 24 * 3600
# A delivery being sent holds this lock; a crashed sender's lock expires and the entry is retried.
DELIVERY_LOCK_SECONDS = 15
DELIVERED_TTL_SECONDS = 14 * 24 * 3600
OUTBOX_MAXLEN = 100_000
OUTBOX_GROUP = "dispatch"


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def seen_bucket(self, bucket: int) -> str:
        """Set of 'p:<post id>' and 't:<text fingerprint>' seen in one time bucket."""
        return f"{self.prefix}seen:{bucket}"

    def open_event(self, rule: str, place: str) -> str:
        """The id of the event open for (rule, place); expires with the event."""
        return f"{self.prefix}open:{rule}:{place}"

    def event_seq(self) -> str:
        return f"{self.prefix}event-seq"

    def event(self, event_id: str) -> str:
        """Hash of the event: rule, place, times, sources count, whether it was alerted."""
        return f"{self.prefix}event:{event_id}"

    def event_authors(self, event_id: str) -> str:
        return f"{self.prefix}event:{event_id}:authors"

    def event_sources(self, event_id: str) -> str:
        """List of JSON source records (author, trust, time, link), newest last, capped."""
        return f"{self.prefix}event:{event_id}:sources"

    def outbox(self) -> str:
        """Stream of alerts and updates to deliver, read by the dispatchers' consumer group."""
        return f"{self.prefix}outbox"

    def delivery(self, entry_id: str, target: str) -> str:
        """'sending' while a dispatcher delivers an outbox entry to a target, 'sent' afterwards."""
        return f"{self.prefix}delivery:{entry_id}:{target}"
