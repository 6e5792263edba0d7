"""Every Redis key frontwatch writes, with its lifetime. Nothing else builds key strings.

The record script (record.lua) gets its keys from here too: where the script makes up an id (an
event id, a time bucket), it receives the key with `ID` in the id's place.

All keys start with a namespace prefix (default `fw:`), so several deployments or a demo can share
one Redis. Layout and sizes are described in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "fw:"
ID = "{id}"  # where the record script puts an id it made up

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
# An alert's Telegram message stays editable by updates for this long.
TELEGRAM_MESSAGE_TTL_SECONDS = 14 * 24 * 3600
OUTBOX_GROUP = "dispatch"  # prefix of the consumer groups, one per kind of delivery


# Admins' verdicts kept (the newest); `frontwatch feedback --export` writes them out.
FEEDBACK_KEPT = 10_000
# A month's count of X posts read is kept a little longer than the month it counts.
X_READS_TTL_SECONDS = 40 * 24 * 3600
# Where a source stopped reading (a Bluesky cursor, a newest id, a feed's validators). A source not run
# for this long starts again from the newest post, as for a new account, instead of a flood of old ones.
SOURCE_POSITION_TTL_SECONDS = 30 * 24 * 3600
# A Bluesky handle may move to another DID (rarely); it is looked up again after this long.
BSKY_DID_TTL_SECONDS = 24 * 3600
# The state the admins were last told of a source ('ok' or 'down'), rewritten at every check: it only
# expires for a source no longer run, which then starts again from 'ok'.
SOURCE_NOTICE_TTL_SECONDS = 30 * 24 * 3600
# A month's read-budget notice (80%, 100%) is claimed once; the claim outlives its month.
BUDGET_NOTICE_TTL_SECONDS = 40 * 24 * 3600


@dataclass(frozen=True)
class Keys:
    prefix: str = DEFAULT_PREFIX

    def seen_bucket(self, bucket: int | str) -> str:
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

    def event_denials(self, event_id: str) -> str:
        """Set of the post ids that denied an event after its alert (each contests it once)."""
        return f"{self.prefix}event:{event_id}:denials"

    def event_voices(self, event_id: str) -> str:
        """Set of the independent voices counted for an event: an outlet's name, or an author."""
        return f"{self.prefix}event:{event_id}:voices"

    def feedback(self) -> str:
        """List of admins' verdicts on alerts ('false alarm' / 'correct') with the first report, as JSON."""
        return f"{self.prefix}feedback"

    def outbox(self) -> str:
        """Stream of alerts and updates to deliver, read by the dispatchers' consumer group."""
        return f"{self.prefix}outbox"

    def chat(self, chat_id: int) -> str:
        """Hash of a chat's settings: type, title, languages, min_sources, muted_until."""
        return f"{self.prefix}chat:{chat_id}"

    def chat_subscriptions(self, chat_id: int) -> str:
        """Hash 'kind:value' -> label of what a chat follows ('country:AF' -> 'Afghanistan')."""
        return f"{self.prefix}chat:{chat_id}:subs"

    def chats(self) -> str:
        """Set of every chat id with at least one subscription."""
        return f"{self.prefix}chats"

    def subscribers(self, kind: str, value: str) -> str:
        """Set of chat ids following one thing, for fan-out ('country', 'AF')."""
        return f"{self.prefix}subscribers:{kind}:{value}"

    def telegram_message(self, event_id: str, chat_id: int) -> str:
        """Hash of an event's alert message in a chat: `message_id`, and `entry`, the newest outbox entry
        shown in it (an older update arriving late never overwrites a newer one)."""
        return f"{self.prefix}tgmsg:{event_id}:{chat_id}"

    def telegram_message_lock(self, event_id: str, chat_id: int) -> str:
        """Held (the outbox entry id) while one process sends or edits an event's message in a chat."""
        return f"{self.prefix}tgmsg:{event_id}:{chat_id}:lock"

    def telegram_pace(self) -> str:
        """When (µs, Redis clock) the bot token may send its next message, for all processes."""
        return f"{self.prefix}tg:pace"

    def telegram_chat_pace(self, chat: str) -> str:
        """Time (µs, Redis clock) from which the next message may go to this chat."""
        return f"{self.prefix}tg:pace:{chat}"

    def telegram_sent(self) -> str:
        """Sorted set of the bot token's messages in the last second (score: µs, Redis clock)."""
        return f"{self.prefix}tg:sent"

    def telegram_chat_sent(self, chat: str) -> str:
        """When (µs, Redis clock) this chat last got a message from the bot token."""
        return f"{self.prefix}tg:sent:{chat}"

    def lease(self, role: str) -> str:
        """'<holder> <fence>' of the process running a role ('telegram-polling', 'source:x-stream')."""
        return f"{self.prefix}lease:{role}"

    def lease_fence(self, role: str) -> str:
        """Counter giving each new holder of a role's lease a number no earlier holder had."""
        return f"{self.prefix}lease:{role}:fence"

    def counter(self, name: str) -> str:
        """Hash of lifetime counters (alerts sent, chats unsubscribed because they blocked the bot)."""
        return f"{self.prefix}counters:{name}"

    def x_user_ids(self) -> str:
        """Hash handle (lower case) -> X user id, looked up once."""
        return f"{self.prefix}x:user-ids"

    def x_since_ids(self) -> str:
        """Hash handle (lower case) -> id of the newest post read from that account's timeline."""
        return f"{self.prefix}x:since-ids"

    def x_reads(self, month: str) -> str:
        """Posts read from X timelines in a month ('2026-11'), against the monthly read budget."""
        return f"{self.prefix}x:reads:{month}"

    def source_positions(self, network: str) -> str:
        """Hash account -> where that network's source stopped reading it: the newest id seen (Mastodon,
        Telegram channels), a feed's ETag, Last-Modified and entry ids (RSS, JSON). Renewed by each write,
        expires after SOURCE_POSITION_TTL_SECONDS unread."""
        return f"{self.prefix}src:{network}:positions"

    def bsky_cursor(self) -> str:
        """Jetstream `time_us` of the last event read, to resume from; SOURCE_POSITION_TTL_SECONDS."""
        return f"{self.prefix}src:bsky:cursor"

    def bsky_dids(self) -> str:
        """Hash Bluesky handle -> DID, from the AppView; expires BSKY_DID_TTL_SECONDS after a lookup."""
        return f"{self.prefix}src:bsky:dids"

    def delivery(self, entry_id: str, target: str) -> str:
        """'sending' while a dispatcher delivers an outbox entry to a target, 'sent' afterwards."""
        return f"{self.prefix}delivery:{entry_id}:{target}"

    def source_notice(self, source: str) -> str:
        """'ok' or 'down': what the admins were last told of a source ('X stream' -> notice:source:x-stream),
        swapped atomically (SET GET) so one process tells each change; SOURCE_NOTICE_TTL_SECONDS."""
        return f"{self.prefix}notice:source:{'-'.join(source.lower().split())}"

    def budget_notice(self, month: str, percent: int) -> str:
        """Claimed (SET NX) by the process that tells the admins a month's X read budget reached `percent`
        ('2026-11', 80); BUDGET_NOTICE_TTL_SECONDS."""
        return f"{self.prefix}notice:x-budget:{month}:{percent}"
