"""Contact summaries (CRM stage, NPS, orders, spend, open cart, last purchase) and stored
simulation runs. Existing contacts get their order count, spend and last purchase from their
purchase events, so conditions on them keep meaning the same thing after the upgrade.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("crm_stage", sa.String(64), nullable=True))
        batch.add_column(sa.Column("nps_score", sa.Double(), nullable=True))
        batch.add_column(
            sa.Column("orders_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("total_spent", sa.Double(), server_default="0", nullable=False))
        batch.add_column(sa.Column("cart_value", sa.Double(), server_default="0", nullable=False))
        batch.add_column(sa.Column("last_purchase_at", sa.DateTime(), nullable=True))

    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer()),
        sa.column("orders_count", sa.Integer()),
        sa.column("total_spent", sa.Double()),
        sa.column("last_purchase_at", sa.DateTime()),
    )
    events = sa.table(
        "events",
        sa.column("contact_id", sa.Integer()),
        sa.column("type", sa.String()),
        sa.column("amount", sa.Double()),
        sa.column("occurred_at", sa.DateTime()),
    )
    purchases = sa.and_(events.c.contact_id == contacts.c.id, events.c.type == "purchase")
    op.execute(
        contacts.update()
        .values(
            orders_count=sa.select(sa.func.count()).where(purchases).scalar_subquery(),
            total_spent=sa.select(sa.func.coalesce(sa.func.sum(events.c.amount), 0.0))
            .where(purchases)
            .scalar_subquery(),
            last_purchase_at=sa.select(sa.func.max(events.c.occurred_at))
            .where(purchases)
            .scalar_subquery(),
        )
        .where(sa.exists().where(purchases))
    )

    op.create_table(
        "simulation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False),
        sa.Column("parameters", JSON_DATA, nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("results", JSON_DATA, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulation_runs")),
    )
    op.create_index(op.f("ix_simulation_runs_scenario_hash"), "simulation_runs", ["scenario_hash"])


def downgrade() -> None:
    op.drop_table("simulation_runs")
    with op.batch_alter_table("contacts") as batch:
        for name in (
            "last_purchase_at",
            "cart_value",
            "total_spent",
            "orders_count",
            "nps_score",
            "crm_stage",
        ):
            batch.drop_column(name)
