"""Each contact field of the condition language as one SQL expression, for one moment `now`.

Counting (`conditions.py`) and the columnar read (`columns.py`) both take their SQL from here,
so a field means the same thing in a segment count and in a simulation. Derived fields (age,
days since…) are computed in whole units with integer arithmetic on both SQLite and
PostgreSQL, so the two back-ends and the Python record builder agree to the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from app.engine.contact_schema import SEASONS, WEEKDAYS
from app.engine.db.models import Contact, Event

SECONDS_PER_DAY = 86_400
CATEGORICAL = ("gender", "city", "country", "locale", "crm_stage")


def utc_naive(moment: datetime | None = None) -> datetime:
    """The database stores naive UTC; aware datetimes are converted, None means now."""
    if moment is None:
        return datetime.now(UTC).replace(tzinfo=None)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def epoch_seconds(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() // 1)


def whole_days(now: datetime, then: datetime) -> int:
    """Full days from `then` to `now`, truncated toward zero like SQL integer division."""
    seconds = epoch_seconds(now) - epoch_seconds(then)
    days = abs(seconds) // SECONDS_PER_DAY
    return days if seconds >= 0 else -days


def age_on(now: datetime, birth: date) -> int:
    """Full years, by the YYYYMMDD trick both databases compute the same way."""
    difference = _ymd(now) - _ymd(birth)
    years = abs(difference) // 10_000
    return years if difference >= 0 else -years


def _ymd(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def calendar_values(now: datetime) -> dict[str, object]:
    """The calendar fields (season, weekday, month, hour) at the moment of evaluation."""
    return {
        "season": SEASONS[(now.month % 12) // 3],
        "weekday": WEEKDAYS[now.weekday()],
        "month": now.month,
        "hour": now.hour,
    }


@dataclass(frozen=True)
class SqlFields:
    """SQL expressions for one dialect and one `now` (naive UTC)."""

    dialect: str
    now: datetime

    @property
    def now_seconds(self) -> int:
        return epoch_seconds(self.now)

    def epoch(self, column: ColumnElement) -> ColumnElement[int]:
        if self.dialect == "sqlite":
            return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)
        return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)

    def days_since(self, column: ColumnElement) -> ColumnElement[int]:
        """Whole days from `column` to now; NULL stays NULL."""
        now = sa.literal(self.now_seconds, sa.BigInteger)
        return (now - self.epoch(column)) // sa.literal(SECONDS_PER_DAY, sa.BigInteger)

    def ymd(self, column: ColumnElement) -> ColumnElement[int]:
        if self.dialect == "sqlite":
            return sa.cast(sa.func.strftime("%Y%m%d", column), sa.BigInteger)
        return sa.cast(sa.func.to_char(column, "YYYYMMDD"), sa.BigInteger)

    def age(self) -> ColumnElement[int]:
        now = sa.literal(_ymd(self.now), sa.BigInteger)
        return (now - self.ymd(Contact.birth_date)) // sa.literal(10_000, sa.BigInteger)

    def field(self, name: str) -> ColumnElement:
        """The SQL of a declared, non-calendar contact field (KeyError for others)."""
        derived = {
            "age": self.age,
            "has_email": lambda: Contact.email.is_not(None),
            "has_phone": lambda: Contact.phone.is_not(None),
            "days_since_signup": lambda: self.days_since(Contact.created_at),
            "days_since_purchase": lambda: self.days_since(Contact.last_purchase_at),
        }
        if name in derived:
            return derived[name]()
        return Contact.__table__.c[name]

    def events_until_now(self, event_type: str) -> ColumnElement[bool]:
        """Events of a type that had happened by `now`: later ones do not exist yet."""
        return sa.and_(Event.type == event_type, Event.occurred_at <= self.now)

    # Custom attributes live in one JSON column; each accessor is NULL unless the value has
    # that JSON type, so `loyalty == 5` never matches the text "5" (strict, like the evaluator).

    def attribute_kind(self, name: str) -> ColumnElement[str]:
        """JSON type of an attribute in SQLite's words (integer, real, text, true, false,
        array…), 'missing' when absent: never NULL, so tests on it stay two-valued."""
        if self.dialect == "sqlite":
            kind = sa.func.json_type(Contact.attributes, _json_path(name))
        else:
            value = Contact.attributes[name]
            typeof = sa.func.jsonb_typeof(value)
            kind = sa.case(
                (typeof == "number", "real"),
                (typeof == "string", "text"),
                (typeof == "boolean", sa.case((value.as_boolean(), "true"), else_="false")),
                else_=typeof,
            )
        return sa.func.coalesce(kind, "missing")

    def attribute_number(self, name: str) -> ColumnElement[float]:
        if self.dialect == "sqlite":
            raw = sa.func.json_extract(Contact.attributes, _json_path(name), type_=sa.Double)
            kinds = ("integer", "real")
        else:
            raw = sa.cast(Contact.attributes[name].as_string(), sa.Double)
            kinds = ("real",)
        return sa.case((self.attribute_kind(name).in_(kinds), raw))

    def attribute_text(self, name: str) -> ColumnElement[str]:
        if self.dialect == "sqlite":
            raw = sa.func.json_extract(Contact.attributes, _json_path(name), type_=sa.String)
        else:
            raw = Contact.attributes[name].as_string()
        return sa.case((self.attribute_kind(name) == "text", raw))

    def attribute_raw(self, name: str) -> ColumnElement[str]:
        """The attribute as JSON text (for arrays and objects)."""
        if self.dialect == "sqlite":
            return sa.func.json_extract(Contact.attributes, _json_path(name), type_=sa.String)
        return sa.cast(Contact.attributes[name], sa.String)

    def attribute_contains(self, name: str, item: ColumnElement, kind: str) -> ColumnElement:
        """Whether the attribute is a JSON array holding `item` (of kind number/text)."""
        if self.dialect == "sqlite":
            elements = sa.func.json_each(Contact.attributes, _json_path(name)).table_valued(
                "value", "type"
            )
            types = ("integer", "real") if kind == "number" else ("text",)
            return sa.and_(
                self.attribute_kind(name) == "array",
                sa.exists()
                .select_from(elements)
                .where(elements.c.type.in_(types), elements.c.value == item),
            )
        element = (
            sa.func.to_jsonb(sa.cast(item, sa.Double))
            if kind == "number"
            else sa.func.to_jsonb(sa.cast(item, sa.Text))
        )
        array = Contact.attributes[name]
        return sa.and_(
            self.attribute_kind(name) == "array",
            array.op("@>")(sa.func.jsonb_build_array(element)),
        )


def _json_path(name: str) -> str:
    """A SQLite JSON path for one key; names come from the condition tokenizer (letters,
    digits and _), and the path is a bound parameter, never spliced into SQL."""
    return f'$."{name}"'
