"""The contact database as typed SQLAlchemy 2 models: the tables, and nothing that queries them.

Models are for reading and editing single records (the inspector, previews, tests); bulk work
(import, demo data, columnar reads) goes through Core or the DBAPI cursor in the modules that
do it, because ORM objects cost ten times more per row (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.engine.catalog import PRODUCT_ROLES
from app.engine.contact_schema import CHANNELS

# JSONB on PostgreSQL (indexable, compact); JSON text elsewhere. None is SQL NULL, not 'null',
# so "no custom attributes" and "no payload" cost nothing and test as IS NULL.
JSONData = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so Alembic migrations name constraints alike."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {dict[str, Any]: JSONData}


contact_tags = Table(
    "contact_tags",
    Base.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "tag_id", "contact_id"),
)


class Contact(Base):
    """A person. Summary columns (orders, spend, cart, last purchase) hold what a CRM export
    states; the demo generator keeps them equal to the event history."""

    __tablename__ = "contacts"
    __table_args__ = (CheckConstraint("gender IN ('f', 'm')", name="gender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(128), index=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    # A unique index, not a constraint, so bulk imports can rebuild it (bulk.py).
    email: Mapped[str | None] = mapped_column(String(254), unique=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None]
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(16))
    consent_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    consent_sms: Mapped[bool] = mapped_column(default=False, server_default=false())
    consent_messenger: Mapped[bool] = mapped_column(default=False, server_default=false())
    consent_vk: Mapped[bool] = mapped_column(default=False, server_default=false())
    consent_push: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]
    crm_stage: Mapped[str | None] = mapped_column(String(64))
    nps_score: Mapped[float | None]
    orders_count: Mapped[int] = mapped_column(default=0, server_default="0")
    total_spent: Mapped[float] = mapped_column(default=0.0, server_default="0")
    cart_value: Mapped[float] = mapped_column(default=0.0, server_default="0")
    last_purchase_at: Mapped[datetime | None]
    attributes: Mapped[dict[str, Any] | None]

    tags: Mapped[list[Tag]] = relationship(secondary=contact_tags, order_by="Tag.name")
    events: Mapped[list[Event]] = relationship(
        back_populates="contact", order_by="Event.occurred_at", passive_deletes=True
    )


CONSENT_COLUMNS = tuple(f"consent_{channel}" for channel in CHANNELS)


class Tag(Base):
    """A segment label ("cats", "vip"); contacts link to tags through `contact_tags`."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Product(Base):
    """An item of the product matrix; `code` is the id scenarios refer to."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{role}'" for role in PRODUCT_ROLES) + ")", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    price: Mapped[float] = mapped_column(Numeric(12, 2, asdecimal=False))


class Event(Base):
    """Something a contact did at a moment: the history conditions read (`days_since`…).

    `amount` and `product_id` are columns because revenue queries need them; the rest of a
    payload (cart items, a wishlist entry) is JSON.
    """

    __tablename__ = "events"
    __table_args__ = (
        # One index serves a contact's history, the correlated EXISTS/COUNT of conditions and
        # the grouped read of `columns.py`; it grows at its end as histories are appended.
        # A second one led by `type` doubled the insert cost of a million-contact import.
        Index(None, "contact_id", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    amount: Mapped[float | None]
    payload: Mapped[dict[str, Any] | None]

    contact: Mapped[Contact] = relationship(back_populates="events")
    product: Mapped[Product | None] = relationship()


class SimulationRun(Base):
    """One simulation with everything needed to repeat it and compare it with others
    (`runs.py` stores, lists and loads them). The headline figures are columns so a list of
    runs does not read the results; `results` is `SimulationResult.to_dict()`."""

    __tablename__ = "simulation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    label: Mapped[str | None] = mapped_column(String(200))
    scenario_id: Mapped[str] = mapped_column(String(200), index=True, default="")
    scenario_name: Mapped[str] = mapped_column(String(200), default="")
    # sha256 of the scenario document without canvas positions (runs.scenario_hash).
    scenario_hash: Mapped[str] = mapped_column(String(64), index=True)
    scenario: Mapped[dict[str, Any] | None]  # the document as it was run
    segment: Mapped[str] = mapped_column(Text, default="")
    horizon_days: Mapped[int] = mapped_column(default=30)
    seed: Mapped[int] = mapped_column(BigInteger)
    replications: Mapped[int] = mapped_column(default=1)
    start_at: Mapped[datetime | None]  # the simulated start
    data_version: Mapped[int | None] = mapped_column(BigInteger)  # of the contacts read
    assumptions: Mapped[dict[str, Any]]
    contacts: Mapped[int] = mapped_column(default=0)
    entered: Mapped[int] = mapped_column(default=0)
    converted: Mapped[int] = mapped_column(default=0)
    revenue: Mapped[float] = mapped_column(default=0.0)
    results: Mapped[dict[str, Any]]


class DataVersion(Base):
    """One row whose `version` triggers bump on any change of contact data (versioning.py)."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ColumnCache(Base):
    """The columnar snapshot of the contacts (columns.py), valid for one data version."""

    __tablename__ = "column_cache"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_version: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
