"""How an alert reads in Telegram (HTML parse mode). Every piece of text from a post is escaped here."""

from __future__ import annotations

from html import escape

from bot.outbox.alert import Alert, Source
from bot.outbox.text import TRUST_LABELS

# Telegram refuses a message longer than 4,096 characters (after entities are parsed).
MAX_MESSAGE_CHARS = 4096
# Pieces of post text are cut to this before escaping, so the head of a message always fits.
MAX_PIECE_CHARS = 200
FLAGS = {"AF": "🇦🇫", "SY": "🇸🇾", "UA": "🇺🇦", "SD": "🇸🇩", "CD": "🇨🇩", "MM": "🇲🇲", "IQ": "🇮🇶", "YE": "🇾🇪"}


def _source_line(source: Source) -> str:
    who = escape(_cut(f"@{source.author}")) if source.author else "unknown author"
    if source.url and source.url.startswith(("https://", "http://")):
        who = f'<a href="{escape(source.url, quote=True)}">{who}</a>'
    details = [TRUST_LABELS.get(source.trust, "unverified")]
    if source.lang:
        details.append(escape(source.lang))
    if source.copy_of_earlier:
        details.append("same text as an earlier post")
    return f"• {who} — {', '.join(details)}, {source.when:%d %b %H:%M} UTC"


def alert_html(alert: Alert) -> str:
    """The whole message; sources are dropped from the oldest kept ones if it would be too long."""
    flag = FLAGS.get(alert.country or "", "📍")
    place = escape(_cut(alert.location)) + (f" ({escape(alert.country)})" if alert.country else "")
    noun = "source" if alert.sources == 1 else "sources"
    head = [
        f"{flag} <b>{place}</b> {alert.headline_verb}",
        f"{alert.sources} {noun} · rule <code>{escape(alert.rule)}</code>"
        + (f" · first report in <i>{escape(alert.lang)}</i>" if alert.lang else ""),
    ]
    if alert.evidence:
        head.append("Evidence: «" + escape(_cut(" … ".join(alert.evidence))) + "»")
    lines = [_source_line(s) for s in alert.sources_list]
    hidden = max(0, alert.sources - len(lines))
    while True:
        tail = [f"… and {hidden} earlier source(s)"] if hidden else []
        text = "\n".join([*head, "", *lines, *tail])
        if len(text) <= MAX_MESSAGE_CHARS or not lines:
            return text  # the head alone is a few hundred characters: cut pieces, whole tags
        lines.pop(0)
        hidden += 1


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PIECE_CHARS else text[: MAX_PIECE_CHARS - 1] + "…"


def confirmation_html(alert: Alert) -> str:
    """A short reply in the alert's thread when an official confirms it."""
    official = next((s for s in reversed(alert.sources_list) if s.trust >= 3), None)
    who = escape(f"@{official.author}") if official and official.author else "an official account"
    return f"✅ Confirmed by {who} — {alert.sources} sources now report {escape(alert.location)} fallen."
