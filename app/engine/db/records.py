"""One contact in the runtime shape the condition evaluator and template previews read.

Built from ORM objects in plain Python, independently of the SQL in `fields.py`; that makes it
the reference the SQL counts and the columnar read are tested against, and the way to preview
a message for one real contact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.engine.contact_schema import CHANNELS
from app.engine.db.fields import age_on, calendar_values, utc_naive, whole_days
from app.engine.db.models import Contact

PLAIN_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "gender",
    "city",
    "country",
    "locale",
    "crm_stage",
    "nps_score",
    "orders_count",
    "total_spent",
    "cart_value",
)


def contact_record(contact: Contact, now: datetime | None = None) -> dict[str, Any]:
    """Fields, tags, event summaries (as of `now`), custom attributes, calendar values and,
    for a contact who abandoned a cart, that cart (`cart.items`, `cart.value`)."""
    moment = utc_naive(now)
    record: dict[str, Any] = {name: getattr(contact, name) for name in PLAIN_FIELDS}
    record.update(
        age=age_on(moment, contact.birth_date) if contact.birth_date else None,
        has_email=contact.email is not None,
        has_phone=contact.phone is not None,
        days_since_signup=whole_days(moment, contact.created_at),
        days_since_purchase=(
            whole_days(moment, contact.last_purchase_at) if contact.last_purchase_at else None
        ),
        tags=[tag.name for tag in contact.tags],
        attributes=dict(contact.attributes or {}),
        **{f"consent_{channel}": getattr(contact, f"consent_{channel}") for channel in CHANNELS},
        **calendar_values(moment),
    )
    events: dict[str, dict[str, Any]] = {}
    last_cart = None
    for event in contact.events:
        if event.occurred_at > moment:
            continue
        entry = events.setdefault(event.type, {"count": 0, "last": event.occurred_at})
        entry["count"] += 1
        entry["last"] = max(entry["last"], event.occurred_at)
        if event.type == "cart_abandoned" and (
            last_cart is None or event.occurred_at >= last_cart.occurred_at
        ):
            last_cart = event
    if last_cart is not None:
        # Templates read `cart.items[0].name`: the latest abandoned cart is the one meant.
        items = (last_cart.payload or {}).get("items") or []
        record["cart"] = {"items": items, "value": last_cart.amount or record["cart_value"]}
    record["events"] = {
        name: {"count": entry["count"], "days_since": whole_days(moment, entry["last"])}
        for name, entry in events.items()
    }
    return record


def iter_contact_records(
    session: Session, now: datetime | None = None, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every contact's record, in id order, loading tags and events a batch at a time."""
    query = (
        sa.select(Contact)
        .order_by(Contact.id)
        .options(selectinload(Contact.tags), selectinload(Contact.events))
        .execution_options(yield_per=batch)
    )
    for contact in session.scalars(query):
        yield contact_record(contact, now)
