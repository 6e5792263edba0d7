"""X filtered-stream rules compiled from rules.yaml, and the diff that syncs them with X. Pure.

The watched accounts (every account group) become `from:` clauses joined by OR, packed into as few
rules as X's limits allow for the access level (number of rules, characters per rule). Each rule is
tagged `frontwatch:accounts:<n>`, so posts say which rule let them in and rules of other tools on
the same app are left alone when syncing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.rules.schema import RulesFile

TAG_PREFIX = "frontwatch:"
# X API v2 filtered stream limits by access level (developer.x.com, "filtered stream" rule limits):
# Pro 1,000 rules of 1,024 characters; Enterprise 25,000 rules of 2,048. Set in config for yours.
DEFAULT_MAX_RULES = 1000
DEFAULT_MAX_RULE_CHARS = 1024


class TooManyAccounts(ValueError):
    """The watched accounts do not fit in the rules the access level allows."""


@dataclass(frozen=True)
class StreamRule:
    value: str
    tag: str


@dataclass(frozen=True)
class RuleSync:
    add: list[StreamRule]
    delete_ids: list[str]
    keep: int


def watched_accounts(rules: RulesFile) -> list[str]:
    """Every handle in every account group, without '@', de-duplicated case-insensitively, sorted."""
    seen: dict[str, str] = {}
    for group in rules.account_groups.values():
        for handle in group.accounts:
            seen.setdefault(handle.lstrip("@").lower(), handle.lstrip("@"))
    return [seen[k] for k in sorted(seen)]


def stream_rules(
    accounts: list[str], max_rules: int = DEFAULT_MAX_RULES, max_chars: int = DEFAULT_MAX_RULE_CHARS
) -> list[StreamRule]:
    """`from:a OR from:b …` packed greedily into rules of at most max_chars characters."""
    chunks: list[list[str]] = []
    for handle in accounts:
        clause = f"from:{handle}"
        if len(clause) > max_chars:
            raise TooManyAccounts(f"the handle {handle} alone is longer than a rule may be ({max_chars})")
        if chunks and len(" OR ".join([*chunks[-1], clause])) <= max_chars:
            chunks[-1].append(clause)
        else:
            chunks.append([clause])
    if len(chunks) > max_rules:
        raise TooManyAccounts(
            f"{len(accounts)} accounts need {len(chunks)} stream rules; the access level allows {max_rules}"
        )
    return [StreamRule(" OR ".join(chunk), f"{TAG_PREFIX}accounts:{n}") for n, chunk in enumerate(chunks, 1)]


def diff_rules(wanted: list[StreamRule], current: list[tuple[str, str, str]]) -> RuleSync:
    """What to add and delete so X holds `wanted`; `current` is (id, value, tag) as X lists them.

    Rules not tagged by frontwatch belong to someone else and are kept.
    """
    ours = [(rid, value, tag) for rid, value, tag in current if tag.startswith(TAG_PREFIX)]
    have = {(value, tag) for _, value, tag in ours}
    want = {(r.value, r.tag) for r in wanted}
    return RuleSync(
        add=[r for r in wanted if (r.value, r.tag) not in have],
        delete_ids=[rid for rid, value, tag in ours if (value, tag) not in want],
        keep=len(have & want),
    )
