"""Noticing edits of rules.yaml while the bot runs: reload after complete validation, tell the admins.

A check compares the file's size, mtime and (when those moved) its SHA-256, so touching the file
or saving it unchanged reloads nothing. A broken edit keeps the old rules running; the admins get
every problem with its line. The file is read like the loader reads it (a regular file of bounded
size), so a FIFO or device put in its place never blocks the bot: it is refused like a broken edit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path

from bot.rules import RulesError
from bot.rules.loader import read_rules_bytes

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 3
MAX_REPORT_CHARS = 3500


class RulesWatcher:
    def __init__(
        self,
        path: Path,
        reload: Callable[[], Awaitable[str]],
        notify_admins: Callable[[str], Awaitable[None]],
    ) -> None:
        self.path = path
        self.reload = reload
        self.notify_admins = notify_admins
        self._stat = self._stat_now()
        self._digest = self._digest_now()

    def _stat_now(self) -> tuple[int, float] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime

    def _digest_now(self) -> str | None:
        try:
            return hashlib.sha256(read_rules_bytes(self.path)).hexdigest()
        except RulesError as exc:
            # Gone (mid-save) is no version at all; a file the loader refuses (a FIFO, too large) is
            # a version of its own, which the reload then refuses with the reason.
            stat = self._stat_now()
            return None if stat is None else f"refused: {exc.report()} {stat}"

    async def check(self) -> bool:
        """Reload when the content changed; True when a new version was seen (good or broken)."""
        stat = self._stat_now()
        if stat == self._stat:
            return False
        self._stat = stat
        digest = self._digest_now()
        if digest == self._digest or digest is None:
            return False
        self._digest = digest
        try:
            report = await self.reload()
        except RulesError as exc:
            log.error(
                "rules.yaml changed but was not accepted; the old rules keep running:\n%s", exc.report()
            )
            await self.notify_admins(
                "⚠️ <b>rules.yaml changed but has problems</b>; the old rules keep running.\n<pre>"
                + escape(exc.report()[:MAX_REPORT_CHARS])
                + "</pre>"
            )
            return True
        log.info("rules.yaml changed and was reloaded: %s", report.replace("\n", "; "))
        await self.notify_admins("✅ <b>rules.yaml reloaded</b>\n<pre>" + escape(report) + "</pre>")
        return True
