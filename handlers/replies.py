"""What the bot says in reply to commands, in one place (alerts themselves: bot/telegram/text.py)."""

from __future__ import annotations

import time
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.subscriptions import ChatSettings, Subscription

WELCOME = (
    "<b>frontwatch</b> watches journalists and officials and tells you, within seconds, when a city "
    "or town is reported fallen or captured — one alert per event, updated as more sources confirm it.\n\n"
    "Tap a country to follow it, or type /subscribe with a country or a city. /help lists everything."
)

HELP = """<b>Following</b>
/subscribe — pick a country, or: <code>/subscribe Afghanistan</code>, <code>/subscribe city Kunduz</code>,
<code>/subscribe all</code>, <code>/subscribe rule city-fallen</code>
<code>/subscribe lang fa,ps</code> — only alerts first reported in these languages
(<code>lang all</code> for any)
<code>/subscribe min_sources 2</code> — wait until two sources report it
/unsubscribe — stop following something (or <code>/unsubscribe all</code>)
/list — what this chat follows

<b>Quiet time</b>
/mute 2h — no alerts for two hours (<code>30m</code>, <code>1d</code>, up to 30 days) · /unmute

/status — this chat's settings{admin}"""

ADMIN_HELP = "\n\n<b>Admins</b>\n/reload — read rules.yaml again · /stats — delivery counters"
NOT_ADMIN = "Sorry, only the bot's administrators can do that."
GROUP_ADMINS_ONLY = "In a group, only its administrators can change what it follows."
INTERNAL_ERROR = "Sorry, something went wrong on our side. It has been logged; please try again in a minute."
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."


def country_keyboard(codes: list[str], names: dict[str, str], action: str = "sub") -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(names.get(code, code), callback_data=f"{action}:country:{code}")
        for code in codes
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton("Everything", callback_data=f"{action}:all:*")])
    return InlineKeyboardMarkup(rows)


def unsubscribe_keyboard(subs: list[Subscription]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"✖ {s.label}", callback_data=f"unsub:{s.kind}:{s.value}")] for s in subs[:20]]
    )


def subscriptions_text(subs: list[Subscription], chat: ChatSettings) -> str:
    if not subs:
        return "This chat follows nothing yet. /subscribe to start."
    lines = ["This chat follows:"] + [f"• {escape(s.label)}" for s in subs]
    lines.append(settings_line(chat))
    return "\n".join(lines)


def settings_line(chat: ChatSettings) -> str:
    parts = ["languages: " + (", ".join(sorted(chat.languages)) if chat.languages else "all")]
    parts.append(f"minimum sources: {chat.min_sources}")
    if chat.muted():
        parts.append("muted until " + time.strftime("%d %b %H:%M UTC", time.gmtime(chat.muted_until)))
    return "(" + "; ".join(parts) + ")"
