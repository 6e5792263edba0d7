"""How an alert reads as plain text: the console, the JSON sink's `text`, the demo."""

from __future__ import annotations

from bot.outbox.alert import Alert

TRUST_LABELS = {3: "official", 2: "journalist", 1: "known account", 0: "unverified"}


def _source_line(alert: Alert, index: int) -> str:
    source = alert.sources_list[index]
    who = f"@{source.author}" if source.author else "unknown author"
    label = TRUST_LABELS.get(source.trust, "unverified")
    copy = ", same text as an earlier post" if source.copy_of_earlier else ""
    link = f" {source.url}" if source.url else ""
    return f"  - {who} ({label}{copy}) {source.when:%Y-%m-%d %H:%M} UTC{link}"


def plain_text(alert: Alert) -> str:
    place = alert.location + (f", {alert.country}" if alert.country else "")
    head = "ALERT" if alert.kind == "alert" else "UPDATE"
    noun = "source" if alert.sources == 1 else "sources"
    lines = [
        f"{head} [{alert.rule}] {place}: {alert.headline_verb} — {alert.sources} {noun}",
        f"  evidence: {' … '.join(alert.evidence)}" + (f" ({alert.lang})" if alert.lang else ""),
    ]
    lines += [_source_line(alert, i) for i in range(len(alert.sources_list))]
    return "\n".join(lines)
