"""How an alert reads in Telegram (HTML parse mode). Every piece of text from a post is escaped here."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.outbox.alert import Alert, Source
from bot.outbox.wording import (
    FOLDED,
    Say,
    country_name,
    english,
    flag,
    kept_sources,
    language_name,
    level_words,
    map_link,
    plain_name,
    quoted_sentence,
    what_happened,
    who,
)

# Telegram refuses a message longer than 4,096 characters (after entities are parsed).
MAX_MESSAGE_CHARS = 4096
# Pieces of post text are cut to this before escaping, so the head of a message always fits.
MAX_PIECE_CHARS = 200
# Source lines shown at most; more are summed up as "+ N more" between the first and the newest.
MAX_SOURCE_LINES = 12
DEMO_BANNER = "🧪 DEMO — replay of August 2021. Not a live alert."


def _source_line(source: Source, first: bool, say: Say) -> str:
    name = escape(_cut(f"@{source.author}")) if source.author else escape(say("unknown author"))
    if source.url and source.url.startswith(("https://", "http://")):
        name = f'<a href="{escape(source.url, quote=True)}">{name}</a>'
    details = [escape(who(source, say))]
    if source.lang:
        details.append(escape(language_name(source.lang)))
    if source.folded:
        details.append(escape(say(FOLDED[source.folded_as])))
    mark = f" ({escape(say('first report'))})" if first else ""
    return f"• {name}{mark} — {', '.join(details)}, {source.when:%d %b %H:%M} UTC"


def _head(alert: Alert, say: Say) -> list[str]:
    country = country_name(alert.country)
    place = f"<b>{escape(_cut(plain_name(alert.location)))}</b>" + (f", {escape(country)}" if country else "")
    first = alert.first_report
    head = [
        f"{escape(level_words(alert, say=say))} · {flag(alert.country)} {place}",
        escape(what_happened(alert, say))
        + (" · " + escape(say("first report {when} UTC", when=f"{first.when:%d %b %H:%M}")) if first else ""),
    ]
    sentence = quoted_sentence(first, alert.evidence) if first else ""
    if sentence and first:
        by = f"@{first.author}" if first.author else "a post"
        head.append(f"«{escape(sentence)}» — {escape(by)}, {escape(language_name(first.lang or alert.lang))}")
    counted = (
        say("{n} independent source ({total} in all)", n=alert.independent_sources, total=alert.sources)
        if alert.independent_sources == 1
        else say("{n} independent sources ({total} in all)", n=alert.independent_sources, total=alert.sources)
    )
    head.append(
        f"{escape(counted)} · {escape(say('rule'))} <code>{escape(alert.rule)}</code>"
        f' · <a href="{escape(map_link(alert), quote=True)}">{escape(say("map"))}</a>'
    )
    return head


def alert_html(alert: Alert, demo: bool = False, say: Say = english) -> str:
    """The whole message, in the chat's language (`say`); when too long, sources between the first
    report and the newest are summed up."""
    head = ([DEMO_BANNER] if demo else []) + _head(alert, say)
    room = MAX_SOURCE_LINES
    while True:
        shown, left_out = kept_sources(alert, room)
        lines = [_source_line(s, i == 0 and s is alert.first_report, say) for i, s in enumerate(shown)]
        if left_out and lines:
            lines.insert(1, "  " + escape(say("+ {n} more", n=left_out)))
        text = "\n".join([*head, "", *lines])
        if len(text) <= MAX_MESSAGE_CHARS or room <= 1:
            return text
        room -= 1


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PIECE_CHARS else text[: MAX_PIECE_CHARS - 1] + "…"


def reply_html(alert: Alert, demo: bool = False, say: Say = english) -> str | None:
    """The reply an update earns in the alert's thread (an edit alone notifies no one), or None."""
    if alert.is_contest:
        return contest_html(alert, demo, say)
    if alert.is_confirmation:
        return confirmation_html(alert, demo, say)
    return None


def contest_html(alert: Alert, demo: bool = False, say: Say = english) -> str:
    """⚠️ A party or a trusted source denies what the alert reported, with the link to its post."""
    denial = alert.sources_list[-1]
    by = escape(f"@{denial.author}") if denial.author else escape(say("a source"))
    if denial.url and denial.url.startswith(("https://", "http://")):
        by = f'<a href="{escape(denial.url, quote=True)}">{by}</a>'
    banner = f"{DEMO_BANNER}\n" if demo else ""
    words = say(
        "Contested: {by} ({who}) denies that {place} fell.",
        by="\x00",
        who=who(denial, say),
        place=plain_name(alert.location),
    )
    return f"{banner}⚠️ " + escape(words).replace("\x00", by)


def confirmation_html(alert: Alert, demo: bool = False, say: Say = english) -> str:
    """A short reply in the alert's thread when the event has just become confirmed."""
    banner = f"{DEMO_BANNER}\n" if demo else ""
    words = say(
        "Confirmed: {place} — {n} independent sources now report it.",
        place=plain_name(alert.location),
        n=alert.independent_sources,
    )
    return f"{banner}🔴 {escape(words)}"


# Telegram refuses callback data over 64 bytes.
MAX_CALLBACK_BYTES = 64
MUTE_PLACE_HOURS = 6


def alert_keyboard(alert: Alert, admin: bool, say: Say = english) -> InlineKeyboardMarkup | None:
    """Buttons under an alert: the first report, mute this place, unfollow; for admins, a verdict."""
    rows: list[list[InlineKeyboardButton]] = []
    first = alert.first_report
    top = []
    if first and first.url and first.url.startswith(("https://", "http://")):
        top.append(InlineKeyboardButton("🔗 " + say("First report"), url=first.url))
    if alert.geonameid is not None:
        top.append(
            InlineKeyboardButton(
                "🔕 " + say("Mute {hours} h", hours=MUTE_PLACE_HOURS),
                callback_data=f"mute:place:{alert.geonameid}:{MUTE_PLACE_HOURS}",
            )
        )
    if top:
        rows.append(top)
    if alert.country:
        rows.append(
            [
                InlineKeyboardButton(
                    "✖ " + say("Unfollow {country}", country=_cut(country_name(alert.country))),
                    callback_data=f"unsub:country:{alert.country}",
                )
            ]
        )
    verdicts = [("👍 " + say("Correct"), "good"), ("👎 " + say("False alarm"), "bad")]
    data = [f"fb:{alert.event_id}:{v}" for _, v in verdicts]
    if admin and all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data):
        rows.append(
            [
                InlineKeyboardButton(label, callback_data=d)
                for (label, _), d in zip(verdicts, data, strict=True)
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None
