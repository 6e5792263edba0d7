"""What the bot says in reply to commands, in one place (alerts themselves: bot/telegram/text.py).

Every sentence is an English gettext msgid, marked with N_ and said in the chat's language through
a Speaker (bot/telegram/i18n.py); the catalogs are bot/telegram/locale/*/LC_MESSAGES/frontwatch.po.
"""

from __future__ import annotations

import time
from datetime import datetime
from html import escape

from babel.dates import format_datetime

from bot.telegram.i18n import N_, Speaker, language_name
from bot.telegram.subscriptions import ChatSettings, Subscription

WELCOME = N_(
    "<b>frontwatch</b> tells you within seconds when a city or town is reported fallen or captured: "
    "one alert per event, updated as more sources confirm it.\n\n"
    "Tap a country to follow it, tap it again to stop. Or type the name of a country or a city. "
    "/help lists everything."
)

HELP = N_(
    "<b>Following</b>\n"
    "Type a name, or /subscribe and a name: <code>/subscribe Afghanistan</code>, "
    "<code>/subscribe Kunduz</code>, <code>/subscribe Tripoli, Lebanon</code>\n"
    "<code>/subscribe all</code> — everything · <code>/subscribe rule city-contested</code> — a rule\n"
    "<code>/subscribe lang</code> — only alerts reported in some languages\n"
    "<code>/subscribe min_sources 2</code> — wait until two independent sources report it\n"
    "/unsubscribe — stop following something · /list — what this chat follows\n\n"
    "<b>Quiet time</b>\n"
    "/mute 2h — no alerts for two hours (<code>30m</code>, <code>6h</code>, <code>2d</code>, up to 30 days)"
    " · /unmute\n"
    "/quiet 22:00-07:00 — alerts arrive without a sound at night · /timezone Asia/Kabul\n\n"
    "/language — the language I speak here · /status — this chat's settings"
)
ADMIN_HELP = N_("<b>Admins</b>\n/reload — read rules.yaml again · /stats — delivery counters")
INTERNAL_ERROR = N_(
    "Sorry, something went wrong on our side. It has been logged; please try again in a minute."
)
UNKNOWN_COMMAND = N_("I don't know that command. /help lists what I can do.")
CHOOSE_TO_FOLLOW = N_(
    "What should this chat follow? Tap to follow, tap again to stop. ✅ marks what it follows."
)
CHOOSE_TO_STOP = N_("Tap ✅ to stop following something; tap it again to follow it again.")
FOLLOWS_NOTHING = N_("This chat follows nothing yet. Tap a country, or type the name of a country or a city.")
WHICH_ONE = N_("“{typed}” may mean more than one place. Which one? Tap to follow.")
DID_YOU_MEAN = N_("I don't know “{typed}”. Did you mean one of these? Tap to follow.")
OFFER = N_("Follow {what}? Tap to follow; you get an alert here when it is reported fallen or captured.")
NOW_FOLLOWS = N_("✅ This chat now follows {what}. Alerts arrive here as they happen.")
ALREADY_FOLLOWS = N_("This chat already follows {what}.")
LIMIT = N_(
    "This chat follows {limit} things already, the most it can. Stop following something first, "
    "or follow a whole country."
)
STOPPED = N_("Stopped following {what}.")
WAS_NOT_FOLLOWING = N_("This chat was not following {what}.")
NOT_FOLLOWING_TYPED = N_("This chat does not follow “{what}”. /list shows what it follows.")
TOAST_FOLLOWING = N_("Following {what}")
TOAST_STOPPED = N_("Stopped following {what}")
STALE_BUTTON = N_("That button is out of date. Here is a fresh keyboard.")
NO_LONGER_VALID = N_("That button is no longer valid.")
CHOOSE_LANGUAGES = N_(
    "Which languages? An alert comes when any source reports the event in one of them. "
    "Tap to choose; none chosen means every language."
)
EVERY_LANGUAGE = N_("Done: alerts in every language.")
SOME_LANGUAGES = N_("Done: alerts reported in {languages} (by any source).")
MIN_SOURCES = N_("Done: an alert now waits for this many independent sources: {n}.")
MUTED = N_(
    "🔕 Muted until {when}. Alerts that come up meanwhile are not sent afterwards. /unmute ends it now."
)
UNMUTED = N_("🔔 Alerts are on again.")
QUIET_SET = N_("🌙 Quiet hours {span} ({zone}): alerts then arrive without a sound.")
QUIET_OFF = N_("Quiet hours are off: every alert arrives with a sound.")
QUIET_NONE = N_(
    "No quiet hours are set. For example /quiet 22:00-07:00 (in the chat's time zone, see /timezone)."
)
ZONE_SET = N_("🕓 Time zone: {zone}. It is {now} there now.")
ZONE_SHOW = N_("This chat's time zone is {zone}. Change it with /timezone Asia/Kabul (or Europe/Kyiv, UTC…).")
ZONE_UNKNOWN = N_("I don't know the time zone “{zone}”. Use a name such as Asia/Kabul, Europe/Kyiv or UTC.")
CHOOSE_INTERFACE = N_("Which language should I speak in this chat?")
SPEAKING = N_("Done: I speak English in this chat now.")
RELOADED = N_("Rules reloaded.")
RELOAD_FAILED = N_("The new rules.yaml has problems; the old rules keep running.")
BOT_HEADER = N_("Bot")


def when(timestamp: float, chat: ChatSettings, say: Speaker) -> str:
    """A moment in the chat's time zone and language: '14 May 16:30 (Asia/Kabul)'."""
    local = datetime.fromtimestamp(timestamp, chat.zone())
    return f"{format_datetime(local, 'd MMM HH:mm', locale=say.lang)} ({chat.zone().key})"


def subscriptions_text(
    subs: list[Subscription], labels: dict[str, str], chat: ChatSettings, say: Speaker
) -> str:
    if not subs:
        return say(FOLLOWS_NOTHING)
    lines = [say(N_("This chat follows:"))] + [escape(labels.get(s.key, s.label)) for s in subs]
    return "\n".join(lines) + "\n\n" + settings_text(chat, say)


def settings_text(chat: ChatSettings, say: Speaker) -> str:
    languages = ", ".join(language_name(c) for c in sorted(chat.languages)) or say(N_("all"))
    lines = [
        say(N_("Languages: {languages}"), languages=languages),
        say(N_("Minimum independent sources: {n}"), n=chat.min_sources),
    ]
    if chat.quiet:
        lines.append(say(N_("Quiet hours: {span} ({zone})"), span=chat.quiet, zone=chat.zone().key))
    if chat.muted():
        lines.append(say(N_("Muted until {when}"), when=when(chat.muted_until, chat, say)))
    if chat.thread_id:
        lines.append(say(N_("Alerts go to the forum topic where the chat subscribed.")))
    return "\n".join(escape(line) for line in lines)


def local_now(chat: ChatSettings, say: Speaker) -> str:
    return format_datetime(datetime.fromtimestamp(time.time(), chat.zone()), "HH:mm", locale=say.lang)
