"""Reading rules.yaml: safe YAML, then the pydantic models, with every error placed at its line and path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.rules.schema import RulesFile

YamlPath = tuple[str | int, ...]


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


class _Builder:
    """Turns a composed YAML node tree into Python data, remembering the line of every path."""

    def __init__(self) -> None:
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[RuleProblem] = []
        self._scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: YamlPath) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = (
                    self._scalars.construct_object(key_node)
                    if isinstance(key_node, yaml.ScalarNode)
                    else None
                )
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
        return self._scalars.construct_object(node)

    def _problem(self, node: yaml.Node, path: YamlPath, message: str) -> None:
        self.problems.append(RuleProblem(node.start_mark.line + 1, format_path(path), message))


def parse_rules(text: str, source: str = "rules.yaml") -> RulesFile:
    """Validate the text of a rules file completely; raise RulesError with every problem found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise RulesError(source, [RuleProblem(line, "", f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise RulesError(source, [RuleProblem(None, "", f"not valid YAML: {exc}")]) from None
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
        problems += _validation_problems(exc, data, builder.lines)
        raise RulesError(source, problems) from None
    problems += _reference_problems(parsed, builder.lines)
    if problems:
        raise RulesError(source, problems)
    return parsed


def load_rules(path: Path) -> RulesFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(str(path), [RuleProblem(None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(str(path), [RuleProblem(None, "", f"cannot be read: {exc}")]) from None
    return parse_rules(text, str(path))


def _validation_problems(exc: ValidationError, data: Any, lines: dict[YamlPath, int]) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors()
    paths = [_data_path(err["loc"], data) for err in errors]
    for n, (err, (path, note)) in enumerate(zip(errors, paths, strict=True)):
        others = (p for m, (p, _) in enumerate(paths) if m != n)
        if _wrong_union_member(err) and any(p[: len(path)] == path for p in others):
            continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "this field is required"
        elif err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see rules.schema.json for the fields allowed)"
        if note:
            message = f"{note}: {message}"
        key = (format_path(path), message)
        if key in seen:
            continue
        seen.add(key)
        problems.append(RuleProblem(_line_of(path, lines), format_path(path), message))
    return problems


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
    for i, rule in enumerate(parsed.rules):
        if rule.id in seen:
            path: YamlPath = ("rules", i, "id")
            problems.append(
                RuleProblem(_line_of(path, lines), format_path(path), f"rule id '{rule.id}' is used twice")
            )
        seen.add(rule.id)
        if rule.accounts == "any":
            continue
        for j, ref in enumerate(rule.accounts):
            if not ref.startswith("@") and ref not in parsed.account_groups:
                path = ("rules", i, "accounts", j)
                problems.append(
                    RuleProblem(
                        _line_of(path, lines),
                        format_path(path),
                        f"'{ref}' is neither an account group in account_groups nor an @handle",
                    )
                )
    return problems
