"""Who took the place: the actor named nearest to the trigger, by the names in rules.yaml's `actors`.

"Kunduz fell to the Taliban" and "RSF seized Wad Madani" name the taker beside the verb. A withdrawal
("Ukrainian forces withdrew from Avdiivka") names the side that left as its subject, so for those only
an actor after the trigger counts ("... leaving it to the Taliban"). Nothing said, nothing guessed.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActorMention:
    start: int
    end: int
    actor: str


def actor_for(
    mentions: list[ActorMention], trigger: tuple[int, int], withdrawal: bool, ends: list[int]
) -> str | None:
    """The actor of the trigger at `trigger` (start, end): nearest in its sentence, else in the post."""
    if not mentions:
        return None
    start, end = trigger
    sentence = bisect_right(ends, start)
    usable = [m for m in mentions if not withdrawal or m.start >= end]
    if not usable:
        return None

    def distance(m: ActorMention) -> int:
        return start - m.end if m.end <= start else max(0, m.start - end)

    same = [m for m in usable if bisect_right(ends, m.start) == sentence]
    pool = same or ([] if withdrawal else usable)
    if not pool:
        return None
    return min(pool, key=distance).actor
