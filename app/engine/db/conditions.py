"""Conditions as SQL: the typed tree compiled to a SQLAlchemy clause, never to SQL text.

The clause means exactly what `expressions.evaluate` means: a comparison with a missing value
is false, and `!=` / `not in` are the negations of `==` / `in`. SQL's three-valued logic would
make `NOT (city = 'Kazan')` unknown for a missing city, so every predicate built here is
two-valued by construction: each operand carries an explicit "present and of this type" guard
(IS NOT NULL, a JSON type test) that is ANDed in before the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.sql.elements import ColumnElement

from app.engine.contact_schema import ContactSchema, FieldType
from app.engine.db.fields import SqlFields, calendar_values, utc_naive
from app.engine.db.models import Contact, Event, Tag, contact_tags
from app.engine.db.schema import contact_schema
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
    compile_condition,
)

KINDS = ("number", "text", "boolean")


@dataclass(frozen=True)
class _Typed:
    """An operand of one kind: `sql` is its value (a predicate for booleans) and `guard` the
    test that it is present and of that kind; None means it always is."""

    sql: ColumnElement
    guard: ColumnElement[bool] | None = None


class _Unknown:
    """A custom attribute: its JSON type is only known row by row."""

    def __init__(self, name: str) -> None:
        self.name = name


class _Tags:
    """The `tags` field, which only `in` can use."""


_Operand = _Typed | _Unknown | _Tags | tuple[str, _Typed]


def condition_clause(
    expr: Expr, schema: ContactSchema, dialect: str, now: datetime
) -> ColumnElement[bool]:
    """A WHERE clause over `contacts` selecting the contacts for which `expr` holds."""
    return _Compiler(schema, SqlFields(dialect, utc_naive(now))).condition(expr)


def count_matching(
    engine: Engine,
    condition_text: str,
    *,
    now: datetime | None = None,
    schema: ContactSchema | None = None,
) -> int:
    """How many contacts satisfy the condition at `now` (default: the current moment).

    The condition is checked against the database's own schema first, so an unknown field,
    tag or event raises ExpressionError instead of silently counting zero.
    """
    schema = schema or contact_schema(engine)
    condition = compile_condition(condition_text, schema)
    clause = condition_clause(condition.expr, schema, engine.dialect.name, utc_naive(now))
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(Contact).where(clause)
        return int(connection.execute(query).scalar_one())


class _Compiler:
    def __init__(self, schema: ContactSchema, fields: SqlFields) -> None:
        self.schema = schema
        self.fields = fields
        self.calendar = calendar_values(fields.now)

    # -- conditions (two-valued predicates)

    def condition(self, expr: Expr) -> ColumnElement[bool]:
        match expr:
            case BoolOp(op=op, operands=operands):
                parts = [self.condition(operand) for operand in operands]
                return sa.and_(*parts) if op == "and" else sa.or_(*parts)
            case Not(operand=operand):
                return sa.not_(self.condition(operand))
            case Compare(op=op, left=left, right=right):
                return self.compare(op, self.operand(left), self.operand(right))
            case Membership(item=item, container=container, negated=negated):
                found = self.membership(self.operand(item), container)
                return sa.not_(found) if negated else found
        return self.truth(self.operand(expr))

    def truth(self, operand: _Operand) -> ColumnElement[bool]:
        typed = self.as_kind(operand, "boolean")
        return sa.false() if typed is None else _guarded(typed.guard, typed.sql)

    # -- operands

    def operand(self, expr: Expr) -> _Operand:
        match expr:
            case Literal(value=value):
                return _literal(value)
            case FieldRef(name=name):
                return self.field(name)
            case Call():
                return self.call(expr)
            case Arith(op=op, left=left, right=right):
                return ("number", self.arith(op, self.operand(left), self.operand(right)))
            case ListLiteral():
                raise TypeError("a list is only allowed after in")
        return ("boolean", _Typed(self.condition(expr)))

    def field(self, name: str) -> _Operand:
        if name == TAGS_FIELD:
            return _Tags()
        if name in self.calendar:
            return _literal(self.calendar[name])
        declared = self.schema.find(name)
        if declared is None:
            return _Unknown(name)
        sql = self.fields.field(name)
        if declared.type is FieldType.BOOLEAN:
            return ("boolean", _Typed(sql))
        kind = "number" if declared.type is FieldType.NUMBER else "text"
        nullable = name not in ("orders_count", "total_spent", "cart_value")
        return (kind, _Typed(sql, sql.is_not(None) if nullable else None))

    def call(self, call: Call) -> _Operand:
        if call.func == "has_tag":
            return ("boolean", _Typed(self.has_tag_named(sa.literal(call.arg, sa.String))))
        happened = sa.and_(Event.contact_id == Contact.id, self.fields.events_until_now(call.arg))
        if call.func == "has_event":
            return ("boolean", _Typed(sa.exists().where(happened)))
        if call.func == "event_count":
            count = sa.select(sa.func.count()).where(happened).scalar_subquery()
            return ("number", _Typed(count))
        last = sa.select(sa.func.max(Event.occurred_at)).where(happened).scalar_subquery()
        days = self.fields.days_since(last)
        return ("number", _Typed(days, days.is_not(None)))

    def has_tag_named(self, name: ColumnElement) -> ColumnElement[bool]:
        return (
            sa.exists()
            .where(contact_tags.c.contact_id == Contact.id)
            .where(contact_tags.c.tag_id == Tag.id, Tag.name == name)
        )

    def as_kind(self, operand: _Operand, kind: str) -> _Typed | None:
        """The operand seen as `kind`, or None when it can never be of that kind."""
        if isinstance(operand, _Tags):
            return None
        if isinstance(operand, _Unknown):
            return self.attribute(operand.name, kind)
        own_kind, typed = operand
        return typed if own_kind == kind else None

    def attribute(self, name: str, kind: str) -> _Typed:
        fields = self.fields
        if kind == "number":
            sql = fields.attribute_number(name)
            return _Typed(sql, sql.is_not(None))
        if kind == "text":
            sql = fields.attribute_text(name)
            return _Typed(sql, sql.is_not(None))
        json_kind = fields.attribute_kind(name)
        return _Typed(json_kind == "true", json_kind.in_(("true", "false")))

    def kinds(self, *operands: _Operand) -> tuple[str, ...]:
        """Kinds both operands can share: one for typed operands, all for attributes."""
        possible = set(KINDS)
        for operand in operands:
            if isinstance(operand, _Tags):
                return ()
            if isinstance(operand, tuple):
                possible &= {operand[0]}
        return tuple(kind for kind in KINDS if kind in possible)

    # -- comparisons

    def compare(self, op: str, left: _Operand, right: _Operand) -> ColumnElement[bool]:
        if op == "!=":
            return sa.not_(self.compare("==", left, right))
        if op == "==":
            return _any_of(self.equal(kind, left, right) for kind in self.kinds(left, right))
        x, y = self.as_kind(left, "number"), self.as_kind(right, "number")
        if x is None or y is None:
            return sa.false()
        ordering = {"<": x.sql < y.sql, "<=": x.sql <= y.sql, ">": x.sql > y.sql}
        test = ordering.get(op, x.sql >= y.sql)
        return _guarded(_both(x.guard, y.guard), test)

    def equal(self, kind: str, left: _Operand, right: _Operand) -> ColumnElement[bool]:
        x, y = self.as_kind(left, kind), self.as_kind(right, kind)
        assert x is not None and y is not None
        if kind == "boolean":
            same = sa.or_(sa.and_(x.sql, y.sql), sa.and_(sa.not_(x.sql), sa.not_(y.sql)))
            return _guarded(_both(x.guard, y.guard), same)
        return _guarded(_both(x.guard, y.guard), x.sql == y.sql)

    def membership(self, item: _Operand, container: Expr) -> ColumnElement[bool]:
        if isinstance(container, ListLiteral):
            values = [literal.value for literal in container.items]
            return _any_of(self.in_list(kind, item, values) for kind in self.kinds(item))
        holder = self.operand(container)
        if isinstance(holder, _Tags):
            name = self.as_kind(item, "text")
            if name is None:
                return sa.false()
            return _guarded(name.guard, self.has_tag_named(name.sql))
        return self.contains(holder, item)

    def in_list(self, kind: str, item: _Operand, values: list[object]) -> ColumnElement[bool]:
        typed = self.as_kind(item, kind)
        assert typed is not None
        if kind == "boolean":
            wanted = {value for value in values if isinstance(value, bool)}
            return _any_of(self.equal("boolean", item, _literal(value)) for value in sorted(wanted))
        if kind == "number":
            numbers = [float(v) for v in values if _is_number(v)]
            found = typed.sql.in_([sa.literal(v, sa.Double) for v in numbers])
            return _guarded(typed.guard, found) if numbers else sa.false()
        texts = [v for v in values if isinstance(v, str)]
        found = typed.sql.in_([sa.literal(v, sa.String) for v in texts])
        return _guarded(typed.guard, found) if texts else sa.false()

    def contains(self, holder: _Operand, item: _Operand) -> ColumnElement[bool]:
        """`item in holder` for a text holder (substring) or an attribute holding a list."""
        needle = self.as_kind(item, "text")
        text = self.as_kind(holder, "text")
        parts: list[ColumnElement[bool]] = []
        if needle is not None and text is not None:
            position = (
                sa.func.instr(text.sql, needle.sql)
                if self.fields.dialect == "sqlite"
                else sa.func.strpos(text.sql, needle.sql)
            )
            guard = _both(_both(needle.guard, text.guard), text.sql != "")
            parts.append(_guarded(guard, position > 0))
        if isinstance(holder, _Unknown):
            for kind in ("number", "text"):
                element = self.as_kind(item, kind)
                if element is not None:
                    inside = self.fields.attribute_contains(holder.name, element.sql, kind)
                    parts.append(_guarded(element.guard, inside))
        return _any_of(parts)

    def arith(self, op: str, left: _Operand, right: _Operand) -> _Typed:
        x, y = self.as_kind(left, "number"), self.as_kind(right, "number")
        if x is None or y is None:
            return _Typed(sa.null(), sa.false())
        a, b = sa.cast(x.sql, sa.Double), sa.cast(y.sql, sa.Double)
        if op == "/":
            zero = sa.literal(0.0, sa.Double)
            result = a / sa.func.nullif(b, zero, type_=sa.Double)
        else:
            result = {"+": a + b, "-": a - b, "*": a * b}[op]
        return _Typed(result, result.is_not(None))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _literal(value: object) -> _Operand:
    if isinstance(value, bool):
        return ("boolean", _Typed(sa.true() if value else sa.false()))
    if isinstance(value, str):
        return ("text", _Typed(sa.literal(value, sa.String)))
    return ("number", _Typed(sa.literal(float(value), sa.Double)))


def _both(
    first: ColumnElement[bool] | None, second: ColumnElement[bool] | None
) -> ColumnElement[bool] | None:
    if first is None or second is None:
        return first if second is None else second
    return sa.and_(first, second)


def _guarded(guard: ColumnElement[bool] | None, test: ColumnElement[bool]) -> ColumnElement[bool]:
    return test if guard is None else sa.and_(guard, test)


def _any_of(parts) -> ColumnElement[bool]:
    parts = list(parts)
    if not parts:
        return sa.false()
    return parts[0] if len(parts) == 1 else sa.or_(*parts)
