"""How an alert reads as plain text: the console, the JSON sink's `text`, the demo.

An alert is printed whole; an update says what changed (the new source and where the event now
stands), since the terminal cannot edit what it printed before.
"""

from __future__ import annotations

from bot.outbox.alert import Alert, Source
from bot.outbox.wording import (
    FOLDED,
    country_name,
    kept_sources,
    language_name,
    level_words,
    map_link,
    plain_name,
    quoted_sentence,
    what_happened,
    who,
)

MAX_SOURCE_LINES = 12


def _source_line(source: Source) -> str:
    name = f"@{source.author}" if source.author else "unknown author"
    details = [who(source)]
    if source.lang:
        details.append(language_name(source.lang))
    if source.folded:
        details.append(FOLDED[source.folded_as])
    link = f" {source.url}" if source.url else ""
    return f"  - {name} ({', '.join(details)}) {source.when:%Y-%m-%d %H:%M} UTC{link}"


def _place(alert: Alert) -> str:
    country = country_name(alert.country)
    return plain_name(alert.location) + (f", {country}" if country else "")


def plain_text(alert: Alert) -> str:
    if alert.kind == "update":
        return _update_text(alert)
    first = alert.first_report
    lines = [
        f"ALERT {level_words(alert)} · {_place(alert)}: {what_happened(alert)} [{alert.rule}]",
        f"  {alert.independent_sources} independent source(s), {alert.sources} in all",
        f"  map: {map_link(alert)}",
    ]
    if first is not None:
        sentence = quoted_sentence(first, alert.evidence)
        if sentence:
            lines.append(f"  «{sentence}» ({language_name(first.lang or alert.lang)})")
    shown, left_out = kept_sources(alert, MAX_SOURCE_LINES)
    source_lines = [_source_line(s) for s in shown]
    if left_out and source_lines:
        source_lines.insert(1, f"  + {left_out} more")
    return "\n".join(lines + source_lines)


def _update_text(alert: Alert) -> str:
    newest = alert.sources_list[-1] if alert.sources_list else None
    added = _source_line(newest).strip() if newest else "a source"
    counts = f"{alert.independent_sources} independent, {alert.sources} in all"
    return (
        f"UPDATE {_place(alert)} [{alert.rule}]: + {added.removeprefix('- ')}\n"
        f"  now {level_words(alert, counts=False)} · {counts}"
    )
