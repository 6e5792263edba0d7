"""The bot's keyboards, built like a settings screen: ✅ on what the chat follows, a tap toggles it.

Button data: `sub:KIND:VALUE` follows, `unsub:KIND:VALUE` stops following (the button shows ✅),
`pg:N` turns the follow screen's page (`pg:N:u`: the screen of followed things only), `lang:CODE`
toggles a language of the alert filter and `ui:CODE` picks the language the bot speaks. A keyboard
is re-drawn from its own buttons after a tap (`redrawn`), so what a chat just unfollowed stays on
screen, ready to be tapped back.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.country_names import country_name, flag
from bot.telegram.i18n import LANGUAGES, N_, Speaker, language_name
from bot.telegram.places_lookup import Found
from bot.telegram.subscriptions import Subscription
from handlers.parsing import country_subscription, place_subscription
from handlers.services import Services

FOLLOWED = "✅ "
PAGE_SIZE = 22  # toggles on one page of the follow screen, two a row: all 21 focus countries fit
EVERYTHING = Subscription("all", "*", "everything")


def name(sub: Subscription, say: Speaker) -> str:
    """How a followed thing is named in a sentence: 'Afghanistan', 'Kunduz (AF)', 'everything'."""
    if sub.kind == "all":
        return say(N_("everything"))
    if sub.kind == "country":
        return country_name(sub.value, say.lang)
    if sub.kind == "rule":
        return say(N_("rule {rule}"), rule=sub.value)
    return sub.label


def bullet(sub: Subscription, say: Speaker) -> str:
    """A line of the list of what a chat follows, with the country's flag."""
    code = sub.value if sub.kind == "country" else sub.label.rpartition("(")[2].rstrip(")")
    mark = flag(code) if sub.kind in ("country", "place") and len(code) == 2 else "•"
    return f"{mark} {name(sub, say)}"


def label(sub: Subscription, svc: Services, say: Speaker) -> str:
    """How a followed thing is named on a button, in the chat's language."""
    if sub.kind == "all":
        return "🌍 " + say(N_("Everything"))
    if sub.kind == "country":
        return f"{flag(sub.value)} {country_name(sub.value, say.lang)}"
    if sub.kind == "place":
        place = svc.places().place(sub.value) if svc.places is not None else None
        if place is not None:
            return f"{flag(place.country)} {place.name}, {country_name(place.country, say.lang)}"
        return sub.label
    return say(N_("Rule: {rule}"), rule=sub.value)


def toggle(sub: Subscription, text: str, followed: bool) -> InlineKeyboardButton:
    action = "unsub" if followed else "sub"
    return InlineKeyboardButton((FOLLOWED if followed else "") + text, callback_data=f"{action}:{sub.key}")


def screen_items(svc: Services, followed: list[Subscription]) -> list[Subscription]:
    """The follow screen's toggles: the focus countries, then everything else the chat follows."""
    items = [Subscription("country", code, svc.countries.get(code, code)) for code in svc.focus_countries()]
    keys = {s.key for s in items}
    items += [s for s in followed if s.key not in keys and s.kind != "all"]
    return items


def follow_screen(
    svc: Services, say: Speaker, followed: list[Subscription], page: int = 0, only_followed: bool = False
) -> InlineKeyboardMarkup:
    """Pages of toggles, 'Everything' under them, and ◀ ▶ when there is more than one page."""
    keys = {s.key for s in followed}
    items = [s for s in followed if s.kind != "all"] if only_followed else screen_items(svc, followed)
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [toggle(s, label(s, svc, say), s.key in keys) for s in shown]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if not only_followed or EVERYTHING.key in keys:
        rows.append([toggle(EVERYTHING, label(EVERYTHING, svc, say), EVERYTHING.key in keys)])
    nav = []
    mode = ":u" if only_followed else ""
    if page > 0:
        nav.append(InlineKeyboardButton(f"◀ {page}/{pages}", callback_data=f"pg:{page - 1}{mode}"))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(f"{page + 2}/{pages} ▶", callback_data=f"pg:{page + 1}{mode}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def choices(found: Found, svc: Services, say: Speaker, followed: list[Subscription]) -> InlineKeyboardMarkup:
    """One button per candidate (or suggestion): flag, name and country, ✅ when already followed."""
    keys = {s.key for s in followed}
    subs = [country_subscription(c, svc) for c in found.countries]
    subs += [place_subscription(p) for p in found.places]
    for suggestion in found.suggestions:
        if suggestion.kind == "country":
            subs.append(country_subscription(suggestion.value, svc))
        elif svc.places is not None and (place := svc.places().place(suggestion.value)) is not None:
            subs.append(place_subscription(place))
    return InlineKeyboardMarkup([[toggle(s, label(s, svc, say), s.key in keys)] for s in subs])


def redrawn(markup: InlineKeyboardMarkup, followed: set[str], languages: set[str]) -> InlineKeyboardMarkup:
    """The same keyboard with ✅ moved to what the chat follows now (and each toggle's action with it)."""
    rows = []
    for row in markup.inline_keyboard:
        new_row = []
        for button in row:
            data = str(button.callback_data or "")
            text = button.text.removeprefix(FOLLOWED)
            kind, _, rest = data.partition(":")
            if kind in ("sub", "unsub"):
                on = rest in followed
                data = ("unsub:" if on else "sub:") + rest
            elif kind == "lang":
                on = rest in languages if rest != "all" else not languages
            else:
                new_row.append(button)
                continue
            new_row.append(InlineKeyboardButton((FOLLOWED if on else "") + text, callback_data=data))
        rows.append(new_row)
    return InlineKeyboardMarkup(rows)


def language_filter(known: list[str], chosen: set[str], say: Speaker) -> InlineKeyboardMarkup:
    """The languages the rules read, ✅ on those the chat's filter keeps; 'All languages' clears it."""
    buttons = [
        InlineKeyboardButton(
            (FOLLOWED if code in chosen else "") + f"{language_name(code)} ({code})",
            callback_data=f"lang:{code}",
        )
        for code in known
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    everything = (FOLLOWED if not chosen else "") + say(N_("All languages"))
    rows.append([InlineKeyboardButton(everything, callback_data="lang:all")])
    return InlineKeyboardMarkup(rows)


def interface_languages(current: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            (FOLLOWED if code == current else "") + language_name(code), callback_data=f"ui:{code}"
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])
