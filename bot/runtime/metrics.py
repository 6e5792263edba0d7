"""Prometheus metrics, in one registry of our own (served on /metrics by bot/runtime/health.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

POSTS = Counter("frontwatch_posts", "Posts that entered the pipeline", ["source"], registry=REGISTRY)
MATCHES = Counter("frontwatch_matches", "Rule matches", ["rule"], registry=REGISTRY)
SENT = Counter(
    "frontwatch_telegram_sent", "Alert messages sent or edited in chats", ["kind"], registry=REGISTRY
)
FAILED = Counter(
    "frontwatch_deliveries_failed", "Deliveries that failed, by cause", ["cause"], registry=REGISTRY
)
RECONNECTS = Counter("frontwatch_x_stream_reconnects", "Reconnects of the X stream", registry=REGISTRY)
OUTBOX_DEPTH = Gauge(
    "frontwatch_outbox_depth", "Outbox entries not yet delivered by this bot", registry=REGISTRY
)
LATENCY = Histogram(
    "frontwatch_detection_to_delivery_seconds",
    "From an alert entering the outbox to Telegram accepting it",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
