"""What the engine decided and why, recorded only when asked (`Detector.detect(post, trace)`).

The engine writes here as it goes; `frontwatch explain` (bot/rules/explain.py) reads it back, so the
explanation is the matching itself, not a second implementation of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TriggerNote:
    start: int
    end: int
    rule: str
    lang: str
    phrase: str
    side: str  # before, after, any
    withdrawal: bool


@dataclass(frozen=True, slots=True)
class CueNote:
    start: int
    end: int
    family: str
    phrase: str
    rule: str | None  # None for a cue every rule shares


@dataclass(frozen=True, slots=True)
class CandidateNote:
    trigger: int  # index into Trace.triggers
    start: int
    end: int
    name: str  # the place the words name, or the words themselves
    matched: bool
    reason: str


@dataclass
class Trace:
    """One post's decisions: triggers and cues found, places tried, and why each went as it did."""

    text: str = ""
    sentence_ends: list[int] = field(default_factory=list)
    triggers: list[TriggerNote] = field(default_factory=list)
    cues: list[CueNote] = field(default_factory=list)
    actors: list[tuple[int, int, str]] = field(default_factory=list)
    cancelled: dict[int, str] = field(default_factory=dict)  # trigger index -> why
    candidates: list[CandidateNote] = field(default_factory=list)
    # (trigger, step) -> why the walk ended, and the offset where it did
    stops: dict[tuple[int, int], tuple[str, int]] = field(default_factory=dict)
    current: int = -1  # the trigger being worked on
    reader: float | None = None  # the second reader's likelihood of a report, when it read the post
    reader_words: int = 0  # the post's words, as the reader counted them
    vetoed: list[tuple[str, str]] = field(default_factory=list)  # (rule, place) the reader dropped
    reader_place: tuple[int, int, str, float] | None = None  # (start, end, place, score) it picked
    reader_held: list[tuple[str, str]] = field(default_factory=list)  # (rule, cue) that kept it from adding

    def candidate(self, start: int, end: int, name: str, matched: bool, reason: str) -> None:
        self.candidates.append(CandidateNote(self.current, start, end, name, matched, reason))

    def stop(self, step: int, reason: str, at: int) -> None:
        self.stops.setdefault((self.current, step), (reason, at))
