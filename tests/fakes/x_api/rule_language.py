"""The filtered-stream rule language: a tokenizer, a parser that refuses what X refuses, a matcher."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.fakes.x_api.spec import _ID_RE, _USERNAME_RE

# --- the rule language -------------------------------------------------------------------------


class RuleError(ValueError):
    """A rule X would refuse; the message is the "details" entry of the problem."""


@dataclass(frozen=True)
class _PostView:
    """A post as the rule matcher sees it: normalised tokens and the facts operators test."""

    text: str
    words: tuple[str, ...]
    hashtags: frozenset[str]
    mentions: frozenset[str]
    cashtags: frozenset[str]
    author_id: str
    author_username: str
    author_verified: bool
    lang: str | None
    ref_types: frozenset[str]
    reply_to: frozenset[str]
    retweet_of: frozenset[str]
    has: frozenset[str]
    conversation_id: str


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", text.casefold()))


class _Node:
    def test(self, post: _PostView) -> bool:
        raise NotImplementedError

    def standalone(self) -> bool:
        """Whether this clause alone can make a rule match (X refuses rules with none)."""
        return True


@dataclass(frozen=True)
class _Or(_Node):
    parts: tuple[_Node, ...]

    def test(self, post: _PostView) -> bool:
        return any(part.test(post) for part in self.parts)

    def standalone(self) -> bool:
        return all(part.standalone() for part in self.parts)


@dataclass(frozen=True)
class _And(_Node):
    parts: tuple[_Node, ...]

    def test(self, post: _PostView) -> bool:
        return all(part.test(post) for part in self.parts)

    def standalone(self) -> bool:
        return any(part.standalone() for part in self.parts)


@dataclass(frozen=True)
class _Not(_Node):
    part: _Node

    def test(self, post: _PostView) -> bool:
        return not self.part.test(post)

    def standalone(self) -> bool:
        return False


@dataclass(frozen=True)
class _Keyword(_Node):
    """A bare word or a "quoted phrase": the words in a row, case-insensitively, anywhere in the text."""

    raw: str

    def test(self, post: _PostView) -> bool:
        wanted = _words(self.raw)
        if not wanted:
            # Emoji and punctuation keywords: a plain case-insensitive substring.
            return self.raw.casefold() in post.text.casefold()
        size = len(wanted)
        return any(post.words[i : i + size] == wanted for i in range(len(post.words) - size + 1))


@dataclass(frozen=True)
class _Entity(_Node):
    kind: str
    value: str

    def test(self, post: _PostView) -> bool:
        found = {"#": post.hashtags, "@": post.mentions, "$": post.cashtags}[self.kind]
        return self.value.casefold() in found


_OPERATORS = frozenset({"from", "to", "lang", "is", "has", "retweets_of", "url", "conversation_id"})
# X requires another clause next to these: "is:retweet" alone is not a rule.
_CONJUNCTION_REQUIRED = frozenset({"lang", "is", "has"})
_IS_VALUES = frozenset({"retweet", "reply", "quote", "verified", "nullcast"})
_HAS_VALUES = frozenset({"links", "mentions", "hashtags", "cashtags", "media", "images", "videos", "geo"})


@dataclass(frozen=True)
class _Operator(_Node):
    name: str
    value: str

    def test(self, post: _PostView) -> bool:
        value = self.value.casefold()
        if self.name == "from":
            return value in (post.author_username, post.author_id)
        if self.name == "to":
            return value in post.reply_to
        if self.name == "retweets_of":
            return value in post.retweet_of
        if self.name == "lang":
            return post.lang == value
        if self.name == "is":
            if value == "verified":
                return post.author_verified
            kinds = {"retweet": "retweeted", "reply": "replied_to", "quote": "quoted"}
            return kinds.get(value, "") in post.ref_types
        if self.name == "has":
            return value in post.has
        if self.name == "url":
            return value in post.text.casefold()
        return value == post.conversation_id  # conversation_id

    def standalone(self) -> bool:
        return self.name not in _CONJUNCTION_REQUIRED


_RULE_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<open>-?\()
      | (?P<close>\))
      | (?P<phrase>-?"(?:[^"\\]|\\.)*")
      | (?P<term>[^\s()"]+(?:"(?:[^"\\]|\\.)*")?)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _RULE_TOKEN.match(source, pos)
        if match is None:
            raise RuleError(f"Unterminated quoted phrase (at position {pos + 1})")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos + 1))
        pos = match.end()
    return tokens


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class _RuleParser:
    """or := and (OR and)* ; and := unary+ ; unary := -? (group | phrase | term). AND binds tighter."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0

    def parse(self) -> _Node:
        if not self.tokens:
            raise RuleError("Rule must not be empty")
        node = self._or()
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise RuleError(f"Unbalanced parentheses: unexpected ')' (at position {token.pos})")
        if not node.standalone():
            raise RuleError(
                "Rules must contain a positive, standalone clause: a keyword, phrase, #hashtag, @mention,"
                " from:, to: or retweets_of: (negations and is:, has:, lang: need one next to them)"
            )
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _or(self) -> _Node:
        parts = [self._and()]
        while (token := self._peek()) is not None and token.kind == "term" and token.text == "OR":
            self.index += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _Or(tuple(parts))

    def _and(self) -> _Node:
        parts: list[_Node] = []
        while (token := self._peek()) is not None and token.kind != "close":
            if token.kind == "term" and token.text == "OR":
                break
            parts.append(self._unary())
        if not parts:
            token = self._peek()
            where = f"at position {token.pos}" if token else "at the end of the rule"
            raise RuleError(f"Expected a clause ({where}): OR joins two clauses and () cannot be empty")
        return parts[0] if len(parts) == 1 else _And(tuple(parts))

    def _unary(self) -> _Node:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "open":
            node = self._or()
            closing = self._peek()
            if closing is None or closing.kind != "close":
                raise RuleError(f"Unbalanced parentheses: '(' is never closed (at position {token.pos})")
            self.index += 1
            return _Not(node) if token.text.startswith("-") else node
        if token.kind == "close":
            raise RuleError(f"Unbalanced parentheses: unexpected ')' (at position {token.pos})")
        negated = token.text.startswith("-") and len(token.text) > 1
        body = token.text[1:] if negated else token.text
        node = _Keyword(_unquote(body)) if token.kind == "phrase" else self._term(body, token.pos)
        return _Not(node) if negated else node

    def _term(self, body: str, pos: int) -> _Node:
        if body == "or":
            raise RuleError(
                f"Ambiguous use of or as a keyword (at position {pos}). Use a capitalized OR for a boolean"
                " disjunction."
            )
        name, colon, value = body.partition(":")
        if colon and "://" not in body and re.fullmatch(r"[a-z_]+", name):
            return _operator(name, value, pos)
        if len(body) > 1 and body[0] in "#@$":
            return _Entity(body[0], body[1:].casefold())
        return _Keyword(body)


def _operator(name: str, value: str, pos: int) -> _Operator:
    if name not in _OPERATORS:
        raise RuleError(f"Reference to invalid operator '{name}' (at position {pos})")
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = _unquote(value)
    if not value:
        raise RuleError(f"Operator '{name}:' needs a value (at position {pos})")
    if name in ("from", "to", "retweets_of"):
        value = value.removeprefix("@")
        if not (_USERNAME_RE.fullmatch(value) or _ID_RE.fullmatch(value)):
            raise RuleError(f"Invalid user '{value}' for operator '{name}' (at position {pos})")
    elif name == "is" and value not in _IS_VALUES:
        raise RuleError(f"Reference to invalid operator 'is:{value}' (at position {pos})")
    elif name == "has" and value not in _HAS_VALUES:
        raise RuleError(f"Reference to invalid operator 'has:{value}' (at position {pos})")
    elif name == "lang" and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", value):
        raise RuleError(f"Invalid language '{value}' for operator 'lang' (at position {pos})")
    return _Operator(name, value)


def compile_rule(value: str) -> _Node:
    """Parse a rule the way the fake's /rules endpoint does; RuleError if X would refuse it."""
    return _RuleParser(value).parse()
