"""What the running bot knows about itself: its rules (and reloading them), its sources, its numbers.

Handlers (/status, /reload, /stats), the rules watcher and /healthz ask this object; it owns the
pipeline and the sources it was given and changes them only through their own methods.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.outbox.alert import Alert
from bot.outbox.consumer import OutboxConsumer
from bot.rules import CompiledRules, compile_rules, load_rules
from bot.rules.schema import Rule
from bot.runtime.leased import LeasedPolling
from bot.runtime.pipeline import Pipeline
from bot.runtime.sources import watched_accounts
from bot.sources import Source, SourceState


class LiveBot:
    def __init__(
        self,
        rules_path: Path,
        pipeline: Pipeline,
        consumer: OutboxConsumer,
        sources: list[Source],
        polling: LeasedPolling,
    ) -> None:
        self.rules_path = rules_path
        self.pipeline = pipeline
        self.consumer = consumer
        self.sources = sources
        self.polling = polling
        self.last_alert_at = 0.0
        self.reloads = 0

    def delivered(self, alert: Alert) -> None:
        self.last_alert_at = time.time()

    @property
    def rules(self) -> CompiledRules:
        return self.pipeline.rules

    async def reload_rules(self) -> str:
        """Validate the rules file completely, then swap it in between two posts; RulesError if broken."""
        compiled = await asyncio.to_thread(lambda: compile_rules(load_rules(self.rules_path)))
        old = self.pipeline.rules
        self.pipeline.use_rules(compiled)
        self.reloads += 1
        accounts = watched_accounts(compiled.source)
        for source in self.sources:
            await source.watch(accounts)
        return rules_diff(
            old.source.rules, compiled.source.rules, len(old.places.places), len(compiled.places.places)
        )

    def source_states(self) -> list[SourceState]:
        """Telegram polling and every post source, as /healthz and /status show them."""
        return [self.polling.state(), *(source.state() for source in self.sources)]

    async def status(self) -> dict[str, str]:
        """The admin's view in /status and /stats."""
        drained = await self.consumer.drained()
        last = (
            time.strftime("%d %b %H:%M UTC", time.gmtime(self.last_alert_at))
            if self.last_alert_at
            else "none yet"
        )
        stats = self.pipeline.stats
        states = self.source_states()
        return {
            "outbox": "all delivered" if drained else "deliveries waiting",
            "last alert delivered": last,
            "posts matched / seen": f"{stats.matched} / {stats.posts}",
            "held while Redis was down": str(stats.held),
            "rules reloaded since start": str(self.reloads),
            "sources": "; ".join(s.line() for s in states),
        }


def rules_diff(old: list[Rule], new: list[Rule], old_places: int, new_places: int) -> str:
    before, after = {r.id for r in old}, {r.id for r in new}
    lines = [f"rules: {len(after)} ({', '.join(sorted(after))})"]
    if after - before:
        lines.append("added: " + ", ".join(sorted(after - before)))
    if before - after:
        lines.append("removed: " + ", ".join(sorted(before - after)))
    lines.append(f"places: {new_places:,} ({new_places - old_places:+,})")
    return "\n".join(lines)
