"""The bot speaks the chat's language: gettext catalogs complete for the seven languages, chosen from
the user's Telegram language or /language, right-to-left text kept in order."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.telegram.i18n import LANGUAGES, catalog_path
from tests.conftest import REPO, eventually
from tests.test_telegram_e2e import SCENARIO, LiveBot, live

__all__ = ["live"]  # the live bot fixture

_PLACEHOLDER = re.compile(r"\{\w+\}")


# The alert's own words said inside f-strings, which Babel cannot extract.
ALERT_WORDS_IN_F_STRINGS = {"first report", "rule", "map", "DENIES IT"}


def msgids() -> set[str]:
    """Every sentence the handlers and the alert say, as Babel extracts it (marked N_ or said)."""
    found = extract_from_dir(REPO / "handlers", method_map=[("**.py", "python")], keywords={"N_": None})
    alert_words = [
        m
        for path in ("bot/telegram/text.py", "bot/outbox/wording.py")
        for m in extract_from_dir(
            REPO / path.rsplit("/", 1)[0],
            method_map=[(path.rsplit("/", 1)[1], "python")],
            keywords={"N_": None, "say": None},
        )
    ]
    return {str(message) for _, _, message, _, _ in [*found, *alert_words]} | ALERT_WORDS_IN_F_STRINGS


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_catalog_translates_every_message_with_its_placeholders_and_no_empty_entry(lang: str) -> None:
    path: Path = catalog_path(lang)
    with path.open("rb") as fh:
        parsed = read_po(fh, locale=lang)
    entries = {str(m.id): str(m.string) for m in parsed if m.id}
    assert not [msgid for msgid, text in entries.items() if not text.strip()], f"empty entries in {path}"
    missing = msgids() - set(entries)
    assert not missing, f"{path} lacks: {sorted(missing)[:3]}"
    for msgid, text in entries.items():
        assert sorted(_PLACEHOLDER.findall(msgid)) == sorted(_PLACEHOLDER.findall(text)), (lang, msgid)


async def test_a_user_whose_telegram_speaks_persian_gets_start_in_persian(live: LiveBot) -> None:
    chat = 1300
    live.fake.add_chat(chat, "private")
    welcome = await live.say(chat, "/start", language_code="fa")
    assert "frontwatch" in welcome and "در چند ثانیه به شما خبر می‌دهد" in welcome
    message = next(s for s in reversed(live.fake.sent) if s.chat_id == chat and s.reply_markup)
    buttons = [b["text"] for row in message.reply_markup["inline_keyboard"] for b in row]
    assert "🇦🇫 افغانستان" in buttons and "🌍 همه چیز" in buttons


async def test_a_persian_speaking_subscriber_gets_the_alerts_fixed_wording_in_persian(live: LiveBot) -> None:
    chat = 1310
    live.fake.add_chat(chat, "private")
    await live.say(chat, "/subscribe Afghanistan", language_code="fa")
    await asyncio.to_thread(live.replay, SCENARIO)
    await eventually(lambda: any("🇦🇫" in m for m in live.replies_to(chat)), what="the alert")
    alert = next(m for m in live.replies_to(chat) if "🇦🇫" in m)
    assert "نخستین گزارش" in alert and "منبع مستقل" in alert  # "first report", "independent source"
    assert "reported" not in alert and "independent" not in alert


async def test_a_latin_name_in_a_persian_sentence_is_isolated_so_it_reads_in_order(live: LiveBot) -> None:
    chat = 1301
    live.fake.add_chat(chat, "private")
    reply = await live.say(chat, "/subscribe Kunduz", language_code="fa")
    assert reply.startswith("✅ این گفتگو اکنون \u2068Kunduz (AF)\u2069 را دنبال می‌کند")


async def test_language_changes_the_bots_language_whatever_the_users_telegram_speaks(live: LiveBot) -> None:
    chat = 1302
    live.fake.add_chat(chat, "private")
    assert "Which language" in await live.say(chat, "/language")
    assert "по-русски" in await live.say(chat, "/language ru")
    assert "Что отслеживать" in await live.say(chat, "/help")
    assert "Тихие часы не заданы" in await live.say(chat, "/quiet")
    assert "Я не знаю такой команды" in await live.say(chat, "/frobnicate")


async def test_the_command_menu_is_published_in_every_language(live: LiveBot) -> None:
    langs = {c.params.get("language_code") for c in live.fake.calls("setMyCommands")}
    assert langs >= {None, "fa", "ps", "ar", "ru", "uk", "fr"}
