"""Conditions as Amazon States Language Choice rules (JSONPath), with our missing-value meaning.

A Choice rule on a path that does not exist is a run-time error in Step Functions, and a
numeric comparison with a text is meaningless, so every comparison is guarded: `age >= 25`
becomes `And[IsPresent, IsNumeric, NumericGreaterThanEquals]` (And stops at the first false).
Semantics follow `expressions.evaluate`: a missing value never compares true, `!=` and
`not in` are negations, equality is strict (a number never equals a text or a yes/no), and
`event_count` of an event that never happened is 0.

Choice rules cannot test whether a list holds an item, so tag tests (`"vip" in tags`,
`has_tag("vip")`) are computed before the Choice by `States.ArrayContains` in a Pass state:
`tag_tests()` says which. What rules cannot express at all (arithmetic, a field compared with
a field that may count missing events as 0, `x in some_field` on a list-valued attribute)
raises `Inexpressible`; the exporter then asks the action handler to evaluate the JsonLogic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema, FieldType
from app.engine.expressions import (
    TAGS_FIELD,
    Arith,
    BoolOp,
    Call,
    Compare,
    Expr,
    FieldRef,
    ListLiteral,
    Literal,
    Membership,
    Not,
    evaluate,
    is_tag_test,
    walk,
)

Rule = dict[str, Any]
CONTACT = "$.contact"
TAG_TESTS = "$.tag_tests"
# `$` always exists: the only way to write a constant rule in ASL.
ALWAYS: Rule = {"Variable": "$", "IsPresent": True}
NEVER: Rule = {"Not": ALWAYS}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC = {
    "==": "NumericEquals",
    "<": "NumericLessThan",
    "<=": "NumericLessThanEquals",
    ">": "NumericGreaterThan",
    ">=": "NumericGreaterThanEquals",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_BOOLEAN_VALUED = (Compare, Membership, BoolOp, Not)


class Inexpressible(ValueError):
    """The condition has a construct Choice rules cannot express; the message says which."""


@dataclass(frozen=True)
class _Path:
    """A value read from the contact; `zero_if_missing` for event counts."""

    path: str
    kind: str  # "number", "text", "boolean", "any"
    zero_if_missing: bool = False


@dataclass
class ChoiceCompiler:
    """Compiles the conditions of one Choice; `tags` collects the tag tests they need."""

    schema: ContactSchema = DEFAULT_SCHEMA
    tags: dict[str, str] = field(default_factory=dict)  # tag → key under $.tag_tests

    def rule(self, expr: Expr) -> Rule:
        """A Choice rule (without Next) equivalent to `evaluate(expr, contact)`."""
        for node in walk(expr):
            if isinstance(node, Arith):
                raise Inexpressible("arithmetic (+ - * /) has no Choice rule")
        return _finish(self.truth(expr))

    # Internally a rule is a dict, or True / False for constants folded away.
    def truth(self, expr: Expr) -> Rule | bool:
        if _is_constant(expr):
            return evaluate(expr, {}, self.schema)
        match expr:
            case BoolOp(op=op, operands=operands):
                return _combine(op, [self.truth(o) for o in operands])
            case Not(operand=operand):
                return _negate(self.truth(operand))
            case Compare():
                return self.compare(expr)
            case Membership():
                return self.membership(expr)
            case Call(func="has_event", arg=event):
                return self.compare_path(">", self.event_path(event, "count"), 0)
            case Call(func="has_tag", arg=tag):
                return self.tag_test(tag)
            case FieldRef():
                return self.compare_path("==", self.field(expr), True)
        return False  # numbers and texts never hold as conditions

    def compare(self, compare: Compare) -> Rule | bool:
        op, left, right = compare.op, compare.left, compare.right
        if op == "!=":
            return _negate(self.truth(Compare("==", left, right)))
        if isinstance(left, Literal) and not isinstance(right, Literal):
            op, left, right = _FLIPPED[op], right, left
        if isinstance(left, _BOOLEAN_VALUED) or _is_boolean_call(left):
            return self.compare_condition(op, left, right)
        value = self.value(left)
        if isinstance(right, Literal):
            return self.compare_path(op, value, right.value)
        if isinstance(right, _BOOLEAN_VALUED) or _is_boolean_call(right):
            return self.compare_condition(_FLIPPED[op], right, left)
        return self.compare_paths(op, value, self.value(right))

    def compare_condition(self, op: str, condition: Expr, other: Expr) -> Rule | bool:
        """A yes/no sub-condition (never missing) compared with something else."""
        if op != "==":
            return False  # orderings need numbers
        if isinstance(other, Literal):
            if not isinstance(other.value, bool):
                return False
            truth = self.truth(condition)
            return truth if other.value else _negate(truth)
        raise Inexpressible("comparing a yes/no condition with a field has no Choice rule")

    def compare_path(self, op: str, value: _Path, literal: object) -> Rule | bool:
        """`value op literal`, guarded, with event counts read as 0 when missing."""
        if isinstance(literal, bool):
            if op != "==":
                return False
            test = typed_rule(value.path, "IsBoolean", {"BooleanEquals": literal})
        elif isinstance(literal, str):
            if op != "==":
                return False
            test = typed_rule(value.path, "IsString", {"StringEquals": literal})
        else:
            test = typed_rule(value.path, "IsNumeric", {_NUMERIC[op]: literal})
        if value.zero_if_missing and evaluate(Compare(op, Literal(0), Literal(literal)), {}):
            return {"Or": [{"Not": typed_rule(value.path, "IsNumeric")}, test]}
        return test

    def compare_paths(self, op: str, left: _Path, right: _Path) -> Rule | bool:
        if left.zero_if_missing or right.zero_if_missing:
            raise Inexpressible("comparing an event count with another field has no Choice rule")
        if left.path == right.path:
            # The same value on both sides: equal (and not smaller) whenever it is present.
            if op in ("<", ">"):
                return False
            present = _present(left.path)
            return present if op == "==" else typed_rule(left.path, "IsNumeric")
        if op != "==":
            suffix = _NUMERIC[op] + "Path"
            return {
                "And": [
                    *_guards(left.path, "IsNumeric"),
                    *_guards(right.path, "IsNumeric"),
                    {"Variable": left.path, suffix: right.path},
                ]
            }
        typed = []
        for check, comparison in (
            ("IsString", "StringEqualsPath"),
            ("IsNumeric", "NumericEqualsPath"),
            ("IsBoolean", "BooleanEqualsPath"),
        ):
            kind = _KIND_OF_CHECK[check]
            if left.kind in ("any", kind) and right.kind in ("any", kind):
                typed.append(
                    {
                        "And": [
                            *_guards(left.path, check),
                            *_guards(right.path, check),
                            {"Variable": left.path, comparison: right.path},
                        ]
                    }
                )
        return _combine("or", typed)

    def membership(self, membership: Membership) -> Rule | bool:
        found = self.contains(membership)
        return _negate(found) if membership.negated else found

    def contains(self, membership: Membership) -> Rule | bool:
        item, container = membership.item, membership.container
        if is_tag_test(membership):
            return self.tag_test(str(item.value))
        if isinstance(container, ListLiteral):
            return _combine(
                "or", [self.truth(Compare("==", item, literal)) for literal in container.items]
            )
        if isinstance(container, FieldRef) and container.name != TAGS_FIELD:
            declared = self.schema.find(container.name)
            is_text = declared is not None and declared.type in (FieldType.TEXT, FieldType.ENUM)
            if is_text and isinstance(item, Literal):
                if not isinstance(item.value, str):
                    return False
                path = self.field(container).path
                pattern = "*" + _escape_wildcards(item.value) + "*"
                return {
                    "And": [
                        *_guards(path, "IsString"),
                        {"Not": {"Variable": path, "StringEquals": ""}},
                        {"Variable": path, "StringMatches": pattern},
                    ]
                }
        raise Inexpressible("only tags, fixed lists and text fields can follow in as Choice rules")

    def tag_test(self, tag: str) -> Rule:
        key = self.tags.setdefault(tag, f"t{len(self.tags)}")
        return {"Variable": f"{TAG_TESTS}.{key}", "BooleanEquals": True}

    def tag_parameters(self) -> dict[str, str]:
        """Pass-state Parameters that compute every tag test the rules read."""
        return {
            f"{key}.$": f"States.ArrayContains({CONTACT}.{TAGS_FIELD}, '{_intrinsic_string(tag)}')"
            for tag, key in self.tags.items()
        }

    # -- values

    def value(self, expr: Expr) -> _Path:
        match expr:
            case FieldRef():
                return self.field(expr)
            case Call(func="event_count", arg=event):
                return self.event_path(event, "count")
            case Call(func="days_since", arg=event):
                return self.event_path(event, "days_since")
        raise Inexpressible(f"{type(expr).__name__} cannot be read by a Choice rule")

    def field(self, ref: FieldRef) -> _Path:
        declared = self.schema.find(ref.name)
        if declared is None:
            return _Path(f"{CONTACT}.attributes.{ref.name}", "any")
        kind = {
            FieldType.NUMBER: "number",
            FieldType.BOOLEAN: "boolean",
            FieldType.TEXT: "text",
            FieldType.ENUM: "text",
        }.get(declared.type, "any")
        return _Path(f"{CONTACT}.{ref.name}", kind)

    def event_path(self, event: str, key: str) -> _Path:
        if not _NAME.match(event):
            raise Inexpressible(f"the event name {event!r} cannot be written in a JSONPath")
        return _Path(f"{CONTACT}.events.{event}.{key}", "number", zero_if_missing=key == "count")


_KIND_OF_CHECK = {"IsString": "text", "IsNumeric": "number", "IsBoolean": "boolean"}


def _is_constant(expr: Expr) -> bool:
    return not any(isinstance(n, FieldRef | Call) for n in walk(expr))


def _is_boolean_call(expr: Expr) -> bool:
    return isinstance(expr, Call) and expr.func in ("has_event", "has_tag")


def _present(path: str) -> Rule:
    return {
        "And": [{"Variable": path, "IsPresent": True}, {"Not": {"Variable": path, "IsNull": True}}]
    }


def _guards(path: str, check: str) -> list[Rule]:
    return [{"Variable": path, "IsPresent": True}, {"Variable": path, check: True}]


def typed_rule(path: str, check: str, comparison: dict[str, Any] | None = None) -> Rule:
    rules = _guards(path, check)
    if comparison:
        rules.append({"Variable": path, **comparison})
    return {"And": rules}


def _combine(op: str, parts: list[Rule | bool]) -> Rule | bool:
    """And / Or with constants folded away and nested runs of the same operator flattened."""
    absorbing, key = (False, "And") if op == "and" else (True, "Or")
    rules: list[Rule] = []
    for part in parts:
        if part is absorbing:
            return absorbing
        if isinstance(part, bool):
            continue
        rules.extend(part[key] if list(part) == [key] else [part])
    if not rules:
        return not absorbing
    return rules[0] if len(rules) == 1 else {key: rules}


def _negate(rule: Rule | bool) -> Rule | bool:
    if isinstance(rule, bool):
        return not rule
    return rule["Not"] if list(rule) == ["Not"] else {"Not": rule}


def _finish(rule: Rule | bool) -> Rule:
    if isinstance(rule, bool):
        return dict(ALWAYS) if rule else {"Not": dict(ALWAYS)}
    return rule


def _escape_wildcards(text: str) -> str:
    """StringMatches treats * as a wildcard; \\ escapes it (and itself)."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


def _intrinsic_string(text: str) -> str:
    """Inside an intrinsic function's quoted argument, ' { } and \\ need a backslash."""
    return re.sub(r"([\\'{}])", r"\\\1", text)
