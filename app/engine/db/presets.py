"""Column maps for the CSV exports of common CRMs and shops (documented in docs/IMPORT.md).

A preset maps header names, compared case- and space-insensitively, to contact fields. Several
columns may feed one field (work and mobile phone): the first non-empty one, in the preset's
order, wins. `!field` reads a yes/no column inverted ("Unsubscribed" → consent).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.engine.contact_schema import CHANNELS

# What a CSV column can be imported into; `attr:<name>` stores a custom attribute.
IMPORT_FIELDS: tuple[str, ...] = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "gender",
    "birth_date",
    "city",
    "country",
    "locale",
    *(f"consent_{channel}" for channel in CHANNELS),
    "created_at",
    "crm_stage",
    "nps_score",
    "orders_count",
    "total_spent",
    "cart_value",
    "last_purchase_at",
    "tags",
)


def header_key(name: str) -> str:
    """How headers are compared: case, spaces and a BOM do not matter."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    columns: dict[str, str]
    signature: tuple[str, ...] = ()
    phone_country: str | None = None
    defaults: Callable[[Sequence[str]], dict[str, object]] = field(default=lambda _header: {})

    def score(self, header: Sequence[str]) -> int:
        """How many of the columns that identify this export the header has."""
        keys = {header_key(name) for name in header}
        return sum(header_key(name) in keys for name in self.signature)


def _mailchimp_defaults(header: Sequence[str]) -> dict[str, object]:
    """Mailchimp exports one file per status: only the subscribed one has no UNSUB_TIME or
    CLEAN_TIME column, and only its members agreed to e-mail."""
    keys = {header_key(name) for name in header}
    return {"consent_email": not ({"unsub_time", "clean_time"} & keys)}


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "shopify",
            "Shopify customers",
            {
                "Customer ID": "external_id",
                "First Name": "first_name",
                "Last Name": "last_name",
                "Email": "email",
                "Phone": "phone",
                "Default Address Phone": "phone",
                "Accepts Email Marketing": "consent_email",
                "Accepts Marketing": "consent_email",
                "Accepts SMS Marketing": "consent_sms",
                "Default Address City": "city",
                "City": "city",
                "Default Address Country Code": "country",
                "Country Code": "country",
                "Total Spent": "total_spent",
                "Total Orders": "orders_count",
                "Tags": "tags",
                "Note": "attr:note",
            },
            signature=(
                "Customer ID",
                "Accepts Email Marketing",
                "Accepts Marketing",
                "Default Address City",
                "Total Spent",
                "Total Orders",
                "Tax Exempt",
            ),
        ),
        Preset(
            "mailchimp",
            "Mailchimp audience",
            {
                "Email Address": "email",
                "First Name": "first_name",
                "Last Name": "last_name",
                "Phone Number": "phone",
                "OPTIN_TIME": "created_at",
                "CC": "country",
                "LEID": "external_id",
                "MEMBER_RATING": "attr:member_rating",
                "TAGS": "tags",
                "NOTES": "attr:note",
            },
            signature=("Email Address", "MEMBER_RATING", "OPTIN_TIME", "LEID", "EUID"),
            defaults=_mailchimp_defaults,
        ),
        Preset(
            "hubspot",
            "HubSpot contacts",
            {
                "Record ID": "external_id",
                "First Name": "first_name",
                "Last Name": "last_name",
                "Email": "email",
                "Mobile Phone Number": "phone",
                "Phone Number": "phone",
                "City": "city",
                "Country/Region": "country",
                "Create Date": "created_at",
                "Lifecycle Stage": "crm_stage",
                "Unsubscribed from all email": "!consent_email",
                "Message": "attr:message",
            },
            signature=("Record ID", "Lifecycle Stage", "Create Date", "Country/Region"),
        ),
        Preset(
            "amocrm",
            "amoCRM contacts",
            {
                "ID": "external_id",
                "Имя": "first_name",
                "Фамилия": "last_name",
                "Личный email": "email",
                "Рабочий email": "email",
                "Мобильный телефон": "phone",
                "Рабочий телефон": "phone",
                "Город": "city",
                "Дата рождения": "birth_date",
                "Дата создания": "created_at",
                "Теги": "tags",
                "Примечание": "attr:note",
            },
            signature=(
                "Ответственный",
                "Теги",
                "Рабочий телефон",
                "Мобильный телефон",
                "Рабочий email",
                "Личный email",
            ),
            phone_country="7",
        ),
        Preset(
            "bitrix24",
            "Bitrix24 contacts",
            {
                "ID": "external_id",
                "Обращение": "gender",
                "Имя": "first_name",
                "Фамилия": "last_name",
                "Дата рождения": "birth_date",
                "Тип контакта": "crm_stage",
                "Источник": "attr:source",
                "Частный e-mail": "email",
                "Рабочий e-mail": "email",
                "Мобильный телефон": "phone",
                "Рабочий телефон": "phone",
                "Домашний телефон": "phone",
                "Город": "city",
                "Страна": "country",
                "Дата создания": "created_at",
                "Комментарий": "attr:note",
            },
            signature=("Обращение", "Отчество", "Тип контакта", "Рабочий e-mail", "Частный e-mail"),
            phone_country="7",
        ),
        Preset(
            "generic",
            "Columns named like Voronka's fields",
            {
                **{name: name for name in IMPORT_FIELDS},
                "e-mail": "email",
                "mail": "email",
                "first name": "first_name",
                "last name": "last_name",
                "birthday": "birth_date",
                "created": "created_at",
            },
        ),
    )
}
