"""Accounts as users copy them into rules.yaml, and which network (and so which source) each belongs to.

`@handle` or `x:handle` (X), `bsky:handle.bsky.social`, `mastodon:https://server/@user`,
`tg:channelname`, `rss:https://example.org/feed.xml`. `parse_account` is the one reader: the rules
schema validates with it (an error at its line), and the runtime splits the watched accounts by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Network = Literal["x", "bsky", "mastodon", "tg", "rss"]
NETWORKS: tuple[Network, ...] = ("x", "bsky", "mastodon", "tg", "rss")

_X_HANDLE = re.compile(r"@?([A-Za-z0-9_]{1,15})")
# A Bluesky handle is a domain name: labels of letters, digits and hyphens, at least two of them.
_BSKY_HANDLE = re.compile(
    r"@?((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62})"
)
_BSKY_DID = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[A-Za-z0-9.:-]{1,200})")
_BSKY_PROFILE = re.compile(r"https://bsky\.app/profile/([^/?#]+)/?")
# Telegram public usernames: 5 to 32 letters, digits and underscores, starting with a letter.
_TG_CHANNEL = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{3,31})")
_TG_LINK = re.compile(r"https?://(?:www\.)?t\.me/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/?")
_MASTODON_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
MAX_URL_CHARS = 2_000

FORMS = (
    "@handle or x:handle (X), bsky:handle.bsky.social, mastodon:https://server/@user,"
    " tg:channelname, rss:https://example.org/feed.xml"
)


class BadAccount(ValueError):
    """An account written in none of the forms; the message says which forms there are."""


@dataclass(frozen=True)
class Account:
    network: Network
    key: str  # what the network's source is given: handle, DID, profile URL, channel, feed URL
    author: str  # the author its posts carry (shown as @author in alerts)

    @property
    def written(self) -> str:
        """The canonical way to write it in rules.yaml (X keeps `@handle`, which rules and trust use)."""
        return f"@{self.key}" if self.network == "x" else f"{self.network}:{self.key}"


def _http_url(value: str, what: str) -> tuple[str, str]:
    """(scheme://host[:port], path) of an http(s) URL; BadAccount otherwise."""
    if len(value) > MAX_URL_CHARS:
        raise BadAccount(f"{what}: a URL longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise BadAccount(f"{what}: {value!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise BadAccount(f"{what}: {value!r} must be an http(s) URL with a host")
    return f"{parts.scheme}://{parts.netloc.lower()}", parts.path


def _bsky(rest: str) -> Account:
    profile = _BSKY_PROFILE.fullmatch(rest)
    name = profile.group(1) if profile else rest
    if _BSKY_DID.fullmatch(name):
        return Account("bsky", name, name)
    handle = _BSKY_HANDLE.fullmatch(name)
    if handle is None or len(handle.group(1)) > 253:
        raise BadAccount(f"{'bsky:' + rest!r} is not a Bluesky handle like bsky:name.bsky.social")
    return Account("bsky", handle.group(1).lower(), handle.group(1).lower())


def _mastodon(rest: str) -> Account:
    if rest.startswith("@") and rest.count("@") == 2:  # @user@server, as Mastodon shows it
        user, server = rest[1:].split("@")
        rest = f"https://{server}/@{user}"
    origin, path = _http_url(rest, "mastodon")
    user = path.strip("/").removeprefix("@")
    if not path.strip("/").startswith("@") or not _MASTODON_USER.fullmatch(user):
        raise BadAccount(
            f"{'mastodon:' + rest!r} is not a profile URL like mastodon:https://mastodon.social/@user"
        )
    host = urlsplit(origin).netloc
    return Account("mastodon", f"{origin}/@{user}", f"{user}@{host}")


def _tg(rest: str) -> Account:
    found = _TG_LINK.fullmatch(rest) or _TG_CHANNEL.fullmatch(rest)
    if found is None:
        raise BadAccount(f"{'tg:' + rest!r} is not a public channel name like tg:channelname (5-32 letters)")
    return Account("tg", found.group(1).lower(), found.group(1))


def _rss(rest: str) -> Account:
    origin, _ = _http_url(rest, "rss")
    # the site, port included, as bot/sources/feeds.py names a feed's posts: trust tiers and a rule's
    # `accounts` are looked up by it (with the port dropped, a feed on a port was never trusted)
    host = urlsplit(origin).netloc or origin
    return Account("rss", rest, host.removeprefix("www."))


def parse_account(text: str) -> Account:
    """The account `text` names; BadAccount (saying the forms) when it names none."""
    value = text.strip()
    network, colon, rest = value.partition(":")
    if colon and network.lower() in ("bsky", "mastodon", "tg", "rss", "x"):
        rest = rest.strip()
        match network.lower():
            case "bsky":
                return _bsky(rest)
            case "mastodon":
                return _mastodon(rest)
            case "tg":
                return _tg(rest)
            case "rss":
                return _rss(rest)
        value = rest
    handle = _X_HANDLE.fullmatch(value)
    if handle is None:
        raise BadAccount(f"{text!r} is not an account; write it as {FORMS}")
    return Account("x", handle.group(1), handle.group(1))


def accounts_by_network(written: list[str]) -> dict[Network, list[str]]:
    """The keys of the accounts in `written`, per network, each once (case-insensitively), sorted.

    An entry that is not an account is left out (rules.yaml validation has reported it already)."""
    seen: dict[Network, dict[str, str]] = {network: {} for network in NETWORKS}
    for text in written:
        try:
            account = parse_account(text)
        except BadAccount:
            continue
        seen[account.network].setdefault(account.key.lower(), account.key)
    return {network: [keys[k] for k in sorted(keys)] for network, keys in seen.items()}


def author_key(written: str) -> str:
    """The lower-case author the posts of an account carry (`bsky:Name.bsky.social` -> `name.bsky.social`),
    what trust tiers and a rule's `accounts` should be keyed by; a bare handle when it is no account."""
    try:
        return parse_account(written).author.lower()
    except BadAccount:
        return written.lstrip("@").lower()
