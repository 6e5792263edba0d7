"""Reading rules.yaml: safe YAML, then the pydantic models, with every error placed at its line and path.

Loading is bounded: only a regular file of at most MAX_RULES_BYTES is read, YAML anchors, aliases
and merge keys are refused while parsing (an alias bomb never gets built), nesting is limited before
the composer recurses, and error reporting is linear in the number of problems.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from bot.rules.schema import RulesFile
from bot.sources.accounts import FORMS, BadAccount, parse_account

YamlPath = tuple[str | int, ...]

# The bundled rules.yaml is ~40 KB; 5 MB is room for thousands of rules and still parses in seconds.
MAX_RULES_BYTES = 5 * 1024 * 1024
# The deepest path rules.yaml needs is rules[i].cancel.<lang>.<family>[j] (6 levels).
MAX_NESTING = 32
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass(frozen=True)
class RuleProblem:
    line: int | None
    path: str
    message: str


class RulesError(Exception):
    """rules.yaml could not be used; `problems` lists every reason with its line and YAML path."""

    def __init__(self, source: str, problems: list[RuleProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = []
        for p in self.problems:
            where = f"{self.source}:{p.line}" if p.line else self.source
            lines.append(f"{where}: {p.path + ': ' if p.path else ''}{p.message}")
        return "\n".join(lines)


def format_path(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line: int | None = mark.line + 1 if mark else None
        self.message = message


class _BoundedComposer(Composer):
    """PyYAML's composer, refusing anchors and aliases and counting how deep collections nest."""

    peek_event: Callable[[], yaml.Event]  # from the parser it is mixed with
    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                event.start_mark,
                "YAML anchors and aliases (&name, *name) are not allowed in rules; write the value out",
            )
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_NESTING:
            raise _Refused(event.start_mark, f"lists and mappings nested more than {MAX_NESTING} deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _Loader(_BoundedComposer, CParser, SafeConstructor, Resolver):
        """libyaml scans and parses (7x faster than PyYAML's own parser); the composer above builds."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - a PyYAML built without libyaml

    class _Loader(yaml.SafeLoader, _BoundedComposer):  # type: ignore[no-redef]
        """PyYAML's own reader, scanner and parser, with the composer above."""


class _Builder:
    """Turns a composed YAML node tree into Python data, remembering the line of every path."""

    def __init__(self) -> None:
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[RuleProblem] = []
        self._scalars = SafeConstructor()

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    self._problem(
                        key_node, path, "YAML merge keys (<<) are not allowed in rules; write the fields out"
                    )
                    continue
                key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
                if key is None or isinstance(key, list | dict):
                    self._problem(key_node, path, "a key must be a plain word or number")
                    continue
                if key in out:
                    self._problem(key_node, (*path, key), f"'{key}' appears twice in the same mapping")
                    continue
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: YamlPath) -> Any:
        try:
            return self._scalars.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:  # an unknown !!tag, an integer of 5,000 digits
            reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
            self._problem(node, path, f"not a value rules can hold: {reason}")
            return None

    def _problem(self, node: yaml.Node, path: YamlPath, message: str) -> None:
        self.problems.append(RuleProblem(node.start_mark.line + 1, format_path(path), message))


def _compose(text: str, source: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    except _Refused as exc:
        raise RulesError(source, [RuleProblem(exc.line, "", exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise RulesError(source, [RuleProblem(line, "", f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise RulesError(source, [RuleProblem(None, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def parse_rules(text: str, source: str = "rules.yaml") -> RulesFile:
    """Validate the text of a rules file completely; raise RulesError with every problem found."""
    if len(text) > MAX_RULES_BYTES:
        raise RulesError(source, [RuleProblem(None, "", _too_big(len(text)))])
    root = _compose(text, source)
    if root is None:
        raise RulesError(source, [RuleProblem(1, "", "the file is empty; it needs at least a 'rules' list")])
    builder = _Builder()
    data = builder.build(root, ())
    problems = list(builder.problems)
    if not isinstance(data, dict):
        problems.append(RuleProblem(1, "", "the top level must be a mapping with a 'rules' list"))
        raise RulesError(source, problems)
    try:
        parsed = RulesFile.model_validate(data)
    except ValidationError as exc:
        unbuilt = {p.path for p in builder.problems}  # a value that could not be read: said once
        problems += [p for p in _validation_problems(exc, data, builder.lines) if p.path not in unbuilt]
        raise RulesError(source, problems) from None
    problems += _reference_problems(parsed, builder.lines)
    if problems:
        raise RulesError(source, problems)
    return parsed


def read_rules_bytes(path: Path) -> bytes:
    """The bytes of the rules file at `path`: a regular file of at most MAX_RULES_BYTES, never a pipe
    or device read until it ends (it may not). RulesError with one line otherwise."""

    def refuse(message: str) -> RulesError:
        return RulesError(str(path), [RuleProblem(None, "", message)])

    try:
        _check_regular(os.stat(path), refuse)
        # O_NONBLOCK: should a FIFO be swapped in after the stat, opening it does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    try:
        _check_regular(os.fstat(fd), refuse)
        chunks, size = [], 0
        while chunk := os.read(fd, MAX_RULES_BYTES + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RULES_BYTES:
                raise refuse(_too_big(size))
        return b"".join(chunks)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _check_regular(st: os.stat_result, refuse: Callable[[str], RulesError]) -> None:
    for is_kind, kind in _NOT_REGULAR:
        if is_kind(st.st_mode):
            raise refuse(f"not a regular file but {kind}; give the path of a rules.yaml")
    if st.st_size > MAX_RULES_BYTES:
        raise refuse(_too_big(st.st_size))


def _too_big(size: int) -> str:
    limit = MAX_RULES_BYTES
    return f"{size:,} bytes; a rules file may be at most {limit // 2**20} MB ({limit:,} bytes)"


def load_rules(path: Path) -> RulesFile:
    data = read_rules_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(str(path), [RuleProblem(None, "", f"cannot be read: {exc}")]) from None
    return parse_rules(text, str(path))


def _validation_problems(exc: ValidationError, data: Any, lines: dict[YamlPath, int]) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors()
    paths = [_data_path(err["loc"], data) for err in errors]
    # How many errors lie at or under each path: one pass, so reporting stays linear in the errors.
    under = Counter(path[:n] for path, _ in paths for n in range(len(path) + 1))
    for err, (path, note) in zip(errors, paths, strict=True):
        if _wrong_union_member(err) and under[path] > 1:
            continue  # another error at or under this path says what is wrong in the shape written
        message = _message(err, path)
        if note:
            message = f"{note}: {message}"
        key = (format_path(path), message)
        if key in seen:
            continue
        seen.add(key)
        problems.append(RuleProblem(_line_of(path, lines), format_path(path), message))
    return problems


def _message(err: Any, path: YamlPath) -> str:
    if err["type"] == "missing":
        return "this field is required"
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; see rules.schema.json for the fields allowed)"
    if err["type"] == "too_short" and err.get("ctx", {}).get("min_length") == 1:
        return "must not be empty" + (
            ": a rule with no triggers can never fire" if "triggers" in path else ""
        )
    return str(err["msg"]).removeprefix("Value error, ")


def _wrong_union_member(err: Any) -> bool:
    """For a value that may be a phrase or a mapping, the complaint of the shape it was not written in."""
    return bool(
        (
            err["type"] in ("model_type", "dict_type", "model_attributes_type")
            and isinstance(err["input"], str)
        )
        or (err["type"] == "string_type" and isinstance(err["input"], dict))
    )


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[YamlPath, str]:
    """The part of a pydantic error location that exists in the YAML, plus a note for the rest."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            return tuple(path[:-1]), f"key '{path[-1]}'" if path else "key"
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and i == len(loc) - 1 and part.isidentifier():
            path.append(part)  # a missing or unknown field: name it
        elif isinstance(part, str) and (not part.isidentifier() or part[:1].isupper()):
            continue  # pydantic's markers for union members and validators: not in the YAML
        else:
            break
    return tuple(path), ""


def _line_of(path: YamlPath, lines: dict[YamlPath, int]) -> int | None:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def _reference_problems(parsed: RulesFile, lines: dict[YamlPath, int]) -> list[RuleProblem]:
    problems = []
    seen: set[str] = set()

    def problem(path: YamlPath, message: str) -> None:
        problems.append(RuleProblem(_line_of(path, lines), format_path(path), message))

    for i, rule in enumerate(parsed.rules):
        if rule.id in seen:
            problem(("rules", i, "id"), f"rule id '{rule.id}' is used twice")
        seen.add(rule.id)
        if rule.accounts == "any":
            continue
        for j, ref in enumerate(rule.accounts):
            message = _account_problem(ref, parsed)
            if message:
                problem(("rules", i, "accounts", j), message)
    return problems


def _account_problem(ref: str, parsed: RulesFile) -> str | None:
    """Why `ref` names neither an account group nor an account (@handle, x:, bsky:, mastodon:, tg:, rss:)."""
    if ref in parsed.account_groups:
        return None
    network, colon, _ = ref.partition(":")
    if not ref.startswith("@") and not (colon and network.lower() in ("x", "bsky", "mastodon", "tg", "rss")):
        return f"'{ref}' is neither an account group in account_groups nor an account ({FORMS})"
    try:
        parse_account(ref)
    except BadAccount as exc:
        return str(exc)
    return None
