"""The declared shape of a contact, the single source for conditions, templates and the database.

The condition language, template previews, validation ("unknown field") and the database
models all read this one declaration, so a field added here is known everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    """Value kinds the condition language can type-check."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    ENUM = "enum"
    TAGS = "tags"


@dataclass(frozen=True)
class ContactField:
    """One attribute a condition may name.

    `calendar` fields describe the moment of evaluation (season, weekday), not the contact.
    `nullable` fields may be missing for a contact; comparisons with a missing value are false.
    """

    name: str
    type: FieldType
    label: str
    choices: tuple[str, ...] = ()
    nullable: bool = False
    calendar: bool = False
    help: str = ""


CHANNELS: tuple[str, ...] = ("email", "sms", "messenger", "vk", "push")

SEASONS: tuple[str, ...] = ("winter", "spring", "summer", "autumn")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Events a contact history can hold; also those a wait-for-event step can wait for.
KNOWN_EVENTS: tuple[str, ...] = (
    "signup",
    "lead_magnet_download",
    "cart_abandoned",
    "wishlist_added",
    "back_in_stock",
    "price_drop",
    "purchase",
    "inactive",
    "opened",
    "clicked",
    "replied",
    "unsubscribed",
    "nps_answered",
    "webinar_attended",
    "form_submitted",
)


def _consent(channel: str) -> ContactField:
    return ContactField(
        f"consent_{channel}",
        FieldType.BOOLEAN,
        f"Consents to {channel}",
        help=f"The contact agreed to receive messages by {channel}.",
    )


CONTACT_FIELDS: tuple[ContactField, ...] = (
    ContactField("first_name", FieldType.TEXT, "First name", nullable=True),
    ContactField("last_name", FieldType.TEXT, "Last name", nullable=True),
    ContactField("email", FieldType.TEXT, "E-mail", nullable=True),
    ContactField("phone", FieldType.TEXT, "Phone", nullable=True),
    ContactField("gender", FieldType.ENUM, "Gender", choices=("f", "m"), nullable=True),
    ContactField("age", FieldType.NUMBER, "Age, years", nullable=True),
    ContactField("city", FieldType.TEXT, "City", nullable=True),
    ContactField("country", FieldType.TEXT, "Country", nullable=True),
    ContactField("locale", FieldType.TEXT, "Locale", nullable=True),
    ContactField("has_email", FieldType.BOOLEAN, "Has an e-mail address"),
    ContactField("has_phone", FieldType.BOOLEAN, "Has a phone number"),
    *(_consent(channel) for channel in CHANNELS),
    ContactField("orders_count", FieldType.NUMBER, "Orders placed"),
    ContactField("total_spent", FieldType.NUMBER, "Total spent"),
    ContactField("cart_value", FieldType.NUMBER, "Value of the open cart"),
    ContactField("days_since_signup", FieldType.NUMBER, "Days since sign-up", nullable=True),
    ContactField(
        "days_since_purchase",
        FieldType.NUMBER,
        "Days since the last purchase",
        nullable=True,
    ),
    ContactField("nps_score", FieldType.NUMBER, "Last NPS answer (0–10)", nullable=True),
    ContactField("crm_stage", FieldType.TEXT, "CRM stage", nullable=True),
    ContactField("tags", FieldType.TAGS, "Tags", help='Use as "cats" in tags.'),
    ContactField("season", FieldType.ENUM, "Season", choices=SEASONS, calendar=True),
    ContactField("weekday", FieldType.ENUM, "Day of week", choices=WEEKDAYS, calendar=True),
    ContactField("month", FieldType.NUMBER, "Month (1–12)", calendar=True),
    ContactField("hour", FieldType.NUMBER, "Hour of day (0–23)", calendar=True),
)


@dataclass(frozen=True)
class ContactSchema:
    """Fields, known tags and known events of a contact base.

    The default schema knows every declared field and event but no tags; a database
    supplies the tags (and extra events and custom attributes) it actually holds.
    `custom_attributes` names attributes stored as JSON whose type is only known at run time.
    """

    fields: tuple[ContactField, ...] = CONTACT_FIELDS
    tags: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset(KNOWN_EVENTS)
    custom_attributes: frozenset[str] = frozenset()
    _by_name: dict[str, ContactField] = field(init=False, repr=False, compare=False)

    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        # Schemas key the validator's caches; hashing every field on each lookup was slow.
        object.__setattr__(
            self, "_hash", hash((self.fields, self.tags, self.events, self.custom_attributes))
        )

    def __hash__(self) -> int:
        return self._hash

    def find(self, name: str) -> ContactField | None:
        return self._by_name.get(name)

    def field_names(self) -> list[str]:
        return list(self._by_name)


DEFAULT_SCHEMA = ContactSchema()
