"""Who took the place: the actor named nearest to the trigger, by the names in rules.yaml's `actors`.

"Kunduz fell to the Taliban" and "RSF seized Wad Madani" name the taker beside the verb. A withdrawal
("Ukrainian forces withdrew from Avdiivka") names the side that left as its subject, so for those only
an actor after the trigger counts ("... leaving it to the Taliban"). Nothing said, nothing guessed.

Three mentions never name the taker: the side the place was taken *from* ("retook Palmyra from
ISIS", "از داعش پس گرفت", "من تنظيم الدولة", "у боевиков"), a side that only *backed* the taker
("with Russian air support", "при поддержке ВКС РФ", "appuyées par"), and the subject of another
withdrawal in the post ("… took the city; the RSF pulled out of it").
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

# The word right before a mention that makes it the side that lost the place (folded).
LOSER_WORDS = frozenset(
    {"from", "against", "از", "علیه", "من", "ضد", "له", "от", "против", "від", "проти", "aux", "contre"}
)
# Of those, the ones that still say it with a word between ("от боевиков ИГ", "from ISIS fighters").
LOSER_WORDS_AT_TWO = frozenset({"from", "от", "від", "از", "against", "против", "проти"})
# Words shortly before a mention that make it a side that backed the taker (folded, any of 3 words).
SUPPORT_WORDS = frozenset(
    {
        "backed", "support", "supported", "help", "پشتیبانی", "حمایت", "بدعم", "مدعومة", "مدعوم", "بمساندة",
        "مساندة", "ملاتړ", "поддержке", "поддержкой", "підтримки", "підтримкою", "appuyees", "appuyes",
        "soutenus", "soutenues", "soutien", "appui",
    }
)  # fmt: skip
_CLAUSE_MARKS = frozenset(".!?;:,،؛—–()\n")
# How far (characters) before a withdrawal its subject may stand.
SUBJECT_REACH = 30


@dataclass(frozen=True, slots=True)
class ActorMention:
    start: int
    end: int
    actor: str


def actor_for(
    mentions: list[ActorMention],
    trigger: tuple[int, int],
    withdrawal: bool,
    ends: list[int],
    text: str = "",
    leaving: tuple[int, ...] = (),
) -> str | None:
    """The actor of the trigger at `trigger` (start, end): nearest in its sentence, else in the post.
    `text` is the folded post; `leaving` the starts of the post's withdrawal phrases whose subject
    comes before them (subject-verb-object languages: "the RSF pulled out of X")."""
    if not mentions:
        return None
    start, end = trigger
    sentence = bisect_right(ends, start)
    usable = [
        m
        for m in mentions
        if (not withdrawal or m.start >= end) and not _lost_or_backed(m, text, withdrawal, leaving, mentions)
    ]
    if not usable:
        return None

    def distance(m: ActorMention) -> int:
        return start - m.end if m.end <= start else max(0, m.start - end)

    same = [m for m in usable if bisect_right(ends, m.start) == sentence]
    pool = same or ([] if withdrawal else usable)
    if not pool:
        return None
    return min(pool, key=distance).actor


def _lost_or_backed(
    m: ActorMention, text: str, withdrawal: bool, leaving: tuple[int, ...], mentions: list[ActorMention]
) -> bool:
    """Whether the mention names the side that lost the place, backed the taker, or left elsewhere."""
    window = text[max(0, m.start - 40) : m.start]
    cut = max(window.rfind(ch) for ch in _CLAUSE_MARKS)
    before = window[cut + 1 :].split()
    if before and before[-1] in LOSER_WORDS:  # "from ISIS"
        return True
    if len(before) > 1 and before[-2] in LOSER_WORDS_AT_TWO:  # "от боевиков ИГ"
        return True
    if any(w in SUPPORT_WORDS for w in before[-3:]):
        return True
    if withdrawal:
        return False
    for w in leaving:  # the nearest mention before a withdrawal phrase, in its clause, is the side that left
        if (
            m.end <= w < m.end + SUBJECT_REACH
            and not any(ch in _CLAUSE_MARKS for ch in text[m.end : w])
            and not any(m.end <= o.start < w for o in mentions)
        ):
            return True
    return False
