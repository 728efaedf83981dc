"""Conditions as Python expressions over a `contact` variable, for BPMN gateways.

SpiffWorkflow evaluates gateway conditions as Python with the process data as variables, so the
BPMN export writes each condition as an expression on `contact` (the runtime contact of
docs/CONDITIONS.md). It is generated from the typed tree, never from the user's text: names are
fixed reads (`contact.get("age")`), texts are `repr` literals. The meaning is the one of
`expressions.evaluate`: a missing value never compares true, equality is strict (a number never
equals a text or a yes/no), `event_count` of an event that never happened is 0, and arithmetic
with a missing value or a division by zero gives a missing value.
"""

from __future__ import annotations

from app.engine.contact_schema import DEFAULT_SCHEMA, ContactSchema
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
    is_tag_test,
)

_NUMBER = "(int, float)"
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def to_python(expr: Expr, schema: ContactSchema = DEFAULT_SCHEMA) -> str:
    """A Python expression that is True exactly when `evaluate(expr, contact)` is."""
    return _Python(schema).condition(expr)


class _Python:
    def __init__(self, schema: ContactSchema) -> None:
        self.schema = schema

    def condition(self, expr: Expr) -> str:
        match expr:
            case BoolOp(op=op, operands=operands):
                return "(" + f" {op} ".join(self.condition(o) for o in operands) + ")"
            case Not(operand=operand):
                return f"(not {self.condition(operand)})"
            case Compare():
                return self.compare(expr)
            case Membership():
                found = self.contains(expr)
                return f"(not {found})" if expr.negated else found
            case Call(func="has_event", arg=event):
                return f"({self.value(Call('event_count', event))} > 0)"
            case Call(func="has_tag", arg=tag):
                return f"({tag!r} in ({self.tags()} or []))"
            case Literal(value=value):
                return "True" if value is True else "False"
            case FieldRef():
                return f"({self.value(expr)} is True)"
        return "False"  # numbers and texts never hold as conditions

    def value(self, expr: Expr) -> str:
        """An expression giving the value, None when missing."""
        match expr:
            case Literal(value=value):
                return repr(value)
            case ListLiteral(items=items):
                return "[" + ", ".join(repr(i.value) for i in items) + "]"
            case FieldRef(name=name):
                if self.schema.find(name) is not None:
                    return f"contact.get({name!r})"
                return f'(contact.get("attributes") or {{}}).get({name!r})'
            case Call(func="event_count", arg=event):
                count = f'{self.event(event)}.get("count")'
                return f"(lambda n: n if type(n) in {_NUMBER} else 0)({count})"
            case Call(func="days_since", arg=event):
                days = f'{self.event(event)}.get("days_since")'
                return f"(lambda n: n if type(n) in {_NUMBER} else None)({days})"
            case Call(func="has_event", arg=event):
                return f"({self.value(Call('event_count', event))} > 0)"
            case Call(func="has_tag"):
                return self.condition(expr)
            case Arith(op=op, left=left, right=right):
                guard = f"type(a) in {_NUMBER} and type(b) in {_NUMBER}"
                if op == "/":
                    guard += " and b != 0"
                return (
                    f"(lambda a, b: (a {op} b) if {guard} else None)"
                    f"({self.value(left)}, {self.value(right)})"
                )
        return self.condition(expr)

    def event(self, event: str) -> str:
        return f'((contact.get("events") or {{}}).get({event!r}) or {{}})'

    def tags(self) -> str:
        return f"contact.get({TAGS_FIELD!r})"

    def compare(self, compare: Compare) -> str:
        op, left_expr, right_expr = compare.op, compare.left, compare.right
        if isinstance(left_expr, Literal) and not isinstance(right_expr, Literal):
            op, left_expr, right_expr = _FLIPPED[op], right_expr, left_expr
        left, right = self.value(left_expr), self.value(right_expr)
        if op in ("==", "!="):
            equal = self.equal_literal(left, right_expr) or self.equal(left, right)
            return equal if op == "==" else f"(not {equal})"
        if isinstance(right_expr, Literal) and _is_number(right_expr.value):
            return f"(type({left}) in {_NUMBER} and {left} {op} {right})"
        return (
            f"(lambda a, b: type(a) in {_NUMBER} and type(b) in {_NUMBER} and a {op} b)"
            f"({left}, {right})"
        )

    @staticmethod
    def equal_literal(value: str, literal: Expr) -> str | None:
        """Readable forms when one side is a fixed value (None: use the general form)."""
        if not isinstance(literal, Literal):
            return None
        if isinstance(literal.value, bool):
            return f"({value} is {literal.value})"
        if isinstance(literal.value, str):
            return f"({value} == {literal.value!r})"  # only a text equals a text
        return f"(type({value}) in {_NUMBER} and {value} == {literal.value!r})"

    @staticmethod
    def equal(left: str, right: str) -> str:
        """Strict equality: numbers with numbers, texts with texts, yes/no with yes/no."""
        return (
            f"(lambda a, b: a is not None and b is not None and ("
            f"(type(a) in {_NUMBER} and type(b) in {_NUMBER}) "
            f"or (type(a) is type(b) and type(a) in (str, bool)) or a is b) and a == b)"
            f"({left}, {right})"
        )

    def contains(self, membership: Membership) -> str:
        item, container = membership.item, membership.container
        if is_tag_test(membership):
            return f"({item.value!r} in ({self.tags()} or []))"
        if isinstance(container, ListLiteral):
            value = self.value(item)
            tests = [self.equal_literal(value, i) for i in container.items]
            return "(" + " or ".join(tests) + ")" if tests else "False"
        member = self.equal("x", "i")
        return (
            f"(lambda i, c: i is not None and ("
            f"(type(c) is list and any({member} for x in c)) "
            f'or (type(c) is str and type(i) is str and c != "" and i in c)))'
            f"({self.value(item)}, {self.value(container)})"
        )
