"""One line on why a post raised nothing, for the demo's terminal ("denial", "forecast", ...).

Read from the engine's own trace (bot/rules/trace.py), like `frontwatch explain`, so the reason is
the decision the engine took, not a guess made beside it.
"""

from __future__ import annotations

from bot.posts import Post
from bot.rules.engine import Detector
from bot.rules.trace import Trace

# A cue family, as a reader calls it.
FAMILY_WORDS = {
    "hedge": "a forecast or a hedge, not a report",
    "denial": "a denial",
    "past": "history, not news",
    "other_sense": "another sense of the words",
    "partial": "only part of the place held",
}


def why_nothing(detector: Detector, post: Post) -> str:
    """Why `post` matched no rule, in a few words."""
    trace = Trace()
    if detector.detect(post, trace):
        return "it matched"
    if trace.vetoed and trace.reader is not None:
        return f"the phrases matched; the second reader reads the post as no report ({trace.reader:.2f})"
    if not trace.triggers:
        return "no report phrase (fell, captured, taken, withdrew ...)"
    for n in range(len(trace.triggers)):
        why = trace.cancelled.get(n)
        if why:
            family = next((f for f in FAMILY_WORDS if f in why), None)
            return FAMILY_WORDS[family] if family else f"cancelled: {why}"
    rejected = [c for c in trace.candidates if not c.matched]
    if rejected:
        return f"{rejected[0].name}: {rejected[0].reason}"
    return "no known place where the report phrase wants it"
