"""The buttons under an alert: mute this place for a few hours, and the admins' verdict.

("Unfollow" reuses /unsubscribe's button; "First report" is a link and needs no handler.)
"""

from __future__ import annotations

import re
import time
from html import escape

from telegram import Update

from bot.store.feedback import EventGone, Verdict
from handlers.permissions import is_admin, may_change
from handlers.services import Context

_MUTE = re.compile(r"^mute:place:(\d{1,12}):(\d{1,3})$")
_VERDICT = re.compile(r"^fb:([a-z0-9-]{1,64}:[\w-]{1,40}:\d{1,12}):(good|bad)$")
MAX_MUTE_HOURS = 168
VERDICTS: dict[str, Verdict] = {"good": "correct", "bad": "false-alarm"}


async def on_alert_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    if mute := _MUTE.match(data):
        await _mute_place(update, context, int(mute.group(1)), int(mute.group(2)))
    elif verdict := _VERDICT.match(data):
        await _record_verdict(update, context, verdict.group(1), VERDICTS[verdict.group(2)])
    else:
        await query.answer("That button is no longer valid.", show_alert=True)


async def _mute_place(update: Update, context: Context, geonameid: int, hours: int) -> None:
    query = update.callback_query
    if query is None or update.effective_chat is None or not await may_change(update, context):
        return
    hours = min(max(hours, 1), MAX_MUTE_HOURS)
    until = time.time() + hours * 3600
    await context.bot_data.store.mute_place(update.effective_chat.id, geonameid, until)
    when = time.strftime("%d %b %H:%M UTC", time.gmtime(until))
    await query.answer(f"No alerts about this place here until {when}.")


async def _record_verdict(update: Update, context: Context, event_id: str, verdict: Verdict) -> None:
    query = update.callback_query
    if query is None:
        return
    if not is_admin(update, context):
        await query.answer("Only the bot's administrators label alerts.", show_alert=True)
        return
    user = update.effective_user
    try:
        place = await context.bot_data.feedback.record(event_id, verdict, user.id if user else 0)
    except EventGone:
        await query.answer("This alert's event has expired; nothing left to label.", show_alert=True)
        return
    label = "correct" if verdict == "correct" else "a false alarm"
    await query.answer(f"Noted: {escape(place)} marked {label}. Thank you.")
