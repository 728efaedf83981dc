"""Contacts with consents and custom attributes, tags, products and event histories.

Revision ID: 0001
Revises:
Create Date: 2025-01-20
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
ROLES = "'lead_magnet', 'tripwire', 'main', 'upsell', 'cross_sell'"


def upgrade() -> None:
    consents = [
        sa.Column(f"consent_{channel}", sa.Boolean(), server_default=sa.false(), nullable=False)
        for channel in ("email", "sms", "messenger", "vk", "push")
    ]
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("gender", sa.String(1), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        *consents,
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attributes", JSON_DATA, nullable=True),
        sa.CheckConstraint("gender IN ('f', 'm')", name=op.f("ck_contacts_gender")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    # A unique index rather than a constraint: bulk imports drop and rebuild it (bulk.py).
    op.create_index(op.f("ix_contacts_email"), "contacts", ["email"], unique=True)
    op.create_index(op.f("ix_contacts_external_id"), "contacts", ["external_id"])
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
    op.create_table(
        "contact_tags",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_tags_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_contact_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", "tag_id", name=op.f("pk_contact_tags")),
    )
    op.create_index(
        op.f("ix_contact_tags_tag_id_contact_id"), "contact_tags", ["tag_id", "contact_id"]
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_products_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Double(), nullable=True),
        sa.Column("payload", JSON_DATA, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_events_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_events_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        op.f("ix_events_contact_id_type_occurred_at"),
        "events",
        ["contact_id", "type", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("products")
    op.drop_table("contact_tags")
    op.drop_table("tags")
    op.drop_table("contacts")
