"""`frontwatch explain`: for each sentence of a text, what the engine found and why it decided so.

Everything printed comes from the `Trace` the engine fills while it matches (bot/rules/trace.py);
this module only lays it out, so an explanation cannot drift from what the detector really does.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from bot.posts import Post
from bot.rules.engine import FULL_VETO_WORDS, VETO_MIN_WORDS, Detector
from bot.rules.match import Match
from bot.rules.trace import Trace


def explain(detector: Detector, text: str) -> str:
    """A plain-text account of how `text` is matched, sentence by sentence, then the matches."""
    trace = Trace()
    matches = detector.detect(Post(id="explain", text=text), trace)
    lines: list[str] = []
    if not trace.triggers:
        lines.append("no trigger phrase of any rule: nothing to match")
    for sentence in range(len(trace.sentence_ends) + 1):
        lines += _sentence_lines(trace, sentence)
    lines += _reader_lines(detector, trace)
    lines.append(_matches_line(matches))
    return "\n".join(lines)


def _sentence_of(trace: Trace, offset: int) -> int:
    return bisect_right(trace.sentence_ends, offset)


def _sentence_lines(trace: Trace, sentence: int) -> list[str]:
    triggers = [n for n, t in enumerate(trace.triggers) if _sentence_of(trace, t.start) == sentence]
    cues = [c for c in trace.cues if _sentence_of(trace, c.start) == sentence]
    actors = [a for a in trace.actors if _sentence_of(trace, a[0]) == sentence]
    if not (triggers or cues or actors):
        return []
    start = trace.sentence_ends[sentence - 1] if sentence > 0 else 0
    end = trace.sentence_ends[sentence] if sentence < len(trace.sentence_ends) else len(trace.text)
    lines = [f"sentence {sentence + 1}: {trace.text[start:end].strip()}"]
    for cue in cues:
        scope = f"rule {cue.rule}" if cue.rule else "every rule"
        lines.append(f"  cue '{trace.text[cue.start : cue.end]}' ({cue.family}, {scope}) at {cue.start}")
    for s, e, actor in actors:
        lines.append(f"  actor '{trace.text[s:e]}' = {actor} at {s}")
    for n in triggers:
        lines += _trigger_lines(trace, n)
    return lines


def _trigger_lines(trace: Trace, n: int) -> list[str]:
    t = trace.triggers[n]
    kind = "withdrawal " if t.withdrawal else ""
    side = {"before": "place before it", "after": "place after it", "any": "place on either side"}[t.side]
    lines = [
        f"  {kind}trigger '{trace.text[t.start : t.end]}' at {t.start}-{t.end} "
        f'(rule {t.rule}, {t.lang}, phrase "{t.phrase}", {side})'
    ]
    if n in trace.cancelled:
        lines.append(f"    cancelled: {trace.cancelled[n]}")
        return lines
    notes = [c for c in trace.candidates if c.trigger == n]
    for c in notes:
        verdict = "matched" if c.matched else "rejected"
        words = trace.text[c.start : c.end]
        lines.append(f"    candidate '{words}' at {c.start}-{c.end} -> {c.name}: {verdict} ({c.reason})")
    for step, label in ((-1, "back"), (1, "forward")):
        stop = trace.stops.get((n, step))
        if stop:
            lines.append(f"    walk {label} stopped: {stop[0]}")
    if not any(c.matched for c in notes):
        lines += _unreached_lines(trace, n)
    return lines


def _unreached_lines(trace: Trace, n: int) -> list[str]:
    """Why no place was found: capitalised words the gazetteer does not know, or nothing on that side."""
    t = trace.triggers[n]
    sentence = _sentence_of(trace, t.start)
    noted = [(c.start, c.end) for c in trace.candidates if c.trigger == n]  # rejected, with a reason above
    unknown = [
        w
        for w in _capitalised_words(trace, sentence)
        if not (t.start <= w[0] < t.end) and not any(a <= w[0] < b for a, b in noted)
    ]
    lines = []
    for start, word in unknown:
        side = "before" if start < t.start else "after"
        wrong = (t.side == "before" and side == "after") or (t.side == "after" and side == "before")
        stop = trace.stops.get((n, -1 if side == "before" else 1))
        beyond = stop is not None and (start < stop[1] if side == "before" else start > stop[1])
        if wrong:
            reason = f"wrong side (the phrase wants the place {t.side} it)"
        elif beyond:
            reason = "not reached: the walk stopped before it"
        else:
            reason = "name unknown to the gazetteer"
        lines.append(f"    '{word}' at {start}: {reason}")
    if not lines:
        lines.append("    no place name in this sentence")
    return lines


def _capitalised_words(trace: Trace, sentence: int) -> Iterable[tuple[int, str]]:
    offset = 0
    for word in trace.text.split():
        offset = trace.text.index(word, offset)
        if _sentence_of(trace, offset) == sentence and word[:1].isupper():
            yield offset, word.strip(".,;:!?()«»\"'")
        offset += len(word)


def _reader_lines(detector: Detector, trace: Trace) -> list[str]:
    """What the second reader (rules.yaml `reader:`) made of the whole post, when it read it."""
    uses = [r.rule for r in detector.compiled.rules if r.rule.reader]
    if not uses:
        return []
    if trace.reader is None:
        return ["second reader: not asked (the post holds no word it counts towards a report)"]
    bounds = ", ".join(
        f"{r.id} drops a match under {r.reader.veto_below:g}, reports at {r.reader.report_above:g} or more"
        for r in uses
        if r.reader
    )
    lines = [f"second reader: likelihood of a report {trace.reader:.2f} ({bounds})"]
    if trace.reader_words < VETO_MIN_WORDS:
        lines.append(f"  a post under {VETO_MIN_WORDS} words: the reader neither drops nor adds a match")
    elif trace.reader_words < FULL_VETO_WORDS:
        lines.append(f"  a post under {FULL_VETO_WORDS} words: it drops a match only under a quarter of that")
    for rule, place in trace.vetoed:
        lines.append(f"  dropped {rule}: {place} (the phrases matched, the whole post reads otherwise)")
    if trace.reader_place is not None:
        start, end, name, score = trace.reader_place
        lines.append(f"  its place: '{trace.text[start:end]}' at {start}-{end} -> {name} (score {score:.2f})")
    for rule, cue in trace.reader_held:
        lines.append(f"  not added to {rule}: {cue}")
    return lines


def _matches_line(matches: list[Match]) -> str:
    if not matches:
        return "matches: none"
    parts = []
    for m in matches:
        actor = f", actor {m.actor}" if m.actor else ""
        where = f"{m.location} [{m.geonameid}, {m.country}]"
        parts.append(f"{m.rule} ({m.kind}): {where}{actor}, confidence {m.confidence}")
    return "matches: " + "; ".join(parts)
