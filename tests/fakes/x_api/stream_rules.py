"""FakeX's filtered-stream rules: the rules a test installs or reads, and the GET and POST
/2/tweets/search/stream/rules endpoints, refusing what X refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.x_api.core import _FakeXCore
from tests.fakes.x_api.errors import _bad_param, _invalid_request
from tests.fakes.x_api.params import _iso
from tests.fakes.x_api.records import _Call, _Rule
from tests.fakes.x_api.rule_language import RuleError, compile_rule
from tests.fakes.x_api.spec import PROBLEMS, JsonDict


class _FakeXRules(_FakeXCore):
    """Rules as a test sets and reads them, and the /rules endpoints."""

    # --- rules --------------------------------------------------------------------------------

    @property
    def rules(self) -> list[JsonDict]:
        """The current rules as GET /rules lists them: {"id", "value"} plus "tag" when set."""
        return [rule.json() for rule in self._rules]

    def add_rule(self, value: str, tag: str | None = None) -> str:
        """Install a rule without a request (RuleError if X would refuse it); returns its id."""
        problem = self._rule_problem(value, set())
        if problem is not None:
            raise RuleError(problem.get("details", [problem["title"]])[0])
        rule = _Rule(self._claim_id(None), value, tag, compile_rule(value))
        self._rules.append(rule)
        return rule.id

    def rule_matches(self, rule: str, post: Mapping[str, Any]) -> bool:
        """Whether a post (as `post()` returns it) satisfies a rule, as the stream decides."""
        return compile_rule(rule).test(self._view(post))

    def _rule_problem(self, value: Any, seen: set[str]) -> JsonDict | None:
        if not isinstance(value, str) or not value.strip():
            return self._invalid_rule(str(value or ""), "Rule must not be empty")
        if len(value) > self.max_rule_length:
            return self._invalid_rule(
                value, f"Rule is {len(value)} characters long; the limit is {self.max_rule_length} characters"
            )
        existing = next((rule for rule in self._rules if rule.value == value), None)
        if existing is not None or value in seen:
            problem: JsonDict = {
                "value": value,
                "title": "DuplicateRule",
                "type": PROBLEMS + "duplicate-rules",
            }
            if existing is not None:
                problem["id"] = existing.id
            return problem
        try:
            compile_rule(value)
        except RuleError as err:
            return self._invalid_rule(value, str(err))
        return None

    @staticmethod
    def _invalid_rule(value: str, detail: str) -> JsonDict:
        return {
            "value": value,
            "details": [detail],
            "title": "UnprocessableEntity",
            "type": PROBLEMS + "invalid-rules",
        }

    # --- rules --------------------------------------------------------------------------------

    def _sent(self) -> str:
        return _iso(datetime.fromtimestamp(self._clock(), UTC))

    async def _get_rules(self, call: _Call) -> web.StreamResponse:
        rules = self._rules
        ids = call.query.get("ids")
        if ids is not None:
            wanted = set(ids.split(","))
            rules = [rule for rule in rules if rule.id in wanted]
        body: JsonDict = {}
        if rules:
            body["data"] = [rule.json() for rule in rules]
        body["meta"] = {"sent": self._sent(), "result_count": len(rules)}
        return call.reply(body)

    async def _post_rules(self, call: _Call) -> web.StreamResponse:
        body = call.body
        dry_run = call.query.get("dry_run", "false").lower()
        if dry_run not in ("true", "false"):
            raise _bad_param(
                "dry_run",
                dry_run,
                f"The `dry_run` query parameter value [{dry_run}] is not one of [true,false]",
            )
        if not isinstance(body, dict) or (("add" in body) == ("delete" in body)):
            # X's schema is oneOf {"add": [...]} / {"delete": {...}}: one of them, never both.
            raise _invalid_request(
                [{"message": 'Request body must be either {"add": [...]} or {"delete": {...}}'}]
            )
        if "add" in body:
            return call.reply(self._add_rules(body["add"], dry_run == "true"))
        return call.reply(self._delete_rules(body["delete"], dry_run == "true"))

    def _add_rules(self, add: Any, dry_run: bool) -> JsonDict:
        if not isinstance(add, list) or not add or not all(isinstance(item, dict) for item in add):
            raise _invalid_request(
                [{"message": '`add` must be a non-empty array of {"value", "tag"} objects'}]
            )
        errors: list[JsonDict] = []
        seen: set[str] = set()
        for item in add:
            problem = self._rule_problem(item.get("value"), seen)
            if problem is not None:
                errors.append(problem)
            seen.add(str(item.get("value")))
        valid = len(add) - len(errors)
        summary = {"created": 0, "not_created": len(add), "valid": valid, "invalid": len(errors)}
        if not errors and len(self._rules) + len(add) > self.max_rules:
            errors.append(
                {
                    "title": "RulesCapExceeded",
                    "detail": "Rule creation failed: this request would take the rules to"
                    f" {len(self._rules) + len(add)}, over the limit of {self.max_rules}",
                    "type": PROBLEMS + "rule-cap",
                }
            )
        body: JsonDict = {}
        if not errors:
            # All or nothing, as X: one refused rule and none of the request's rules is created.
            created = [
                _Rule(self._claim_id(None), item["value"], item.get("tag"), compile_rule(item["value"]))
                for item in add
            ]
            if not dry_run:
                self._rules.extend(created)
            body["data"] = [rule.json() for rule in created]
            summary.update({"created": len(created), "not_created": 0})
        body["meta"] = {"sent": self._sent(), "summary": summary}
        if errors:
            body["errors"] = errors
        return body

    def _delete_rules(self, delete: Any, dry_run: bool) -> JsonDict:
        if not isinstance(delete, dict) or not (delete.get("ids") or delete.get("values")):
            raise _invalid_request([{"message": "`delete` must hold a non-empty `ids` or `values` array"}])
        ids = [str(i) for i in delete.get("ids") or []]
        values = [str(v) for v in delete.get("values") or []]
        doomed = [r for r in self._rules if r.id in ids or r.value in values]
        missing = [i for i in ids if all(r.id != i for r in doomed)]
        missing += [v for v in values if all(r.value != v for r in doomed)]
        if not dry_run:
            self._rules = [r for r in self._rules if r not in doomed]
        body: JsonDict = {
            "meta": {"sent": self._sent(), "summary": {"deleted": len(doomed), "not_deleted": len(missing)}}
        }
        if missing:
            body["errors"] = [
                {
                    "errors": [{"parameters": {}, "message": "Rule does not exist"}],
                    "value": value,
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": PROBLEMS + "invalid-request",
                }
                for value in missing
            ]
        return body
