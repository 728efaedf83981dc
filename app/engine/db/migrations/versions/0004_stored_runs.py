"""Stored simulation runs carry what a list and a comparison show without opening the results:
the scenario's id, name and document, the segment, horizon, replications and simulated start,
the contact data version read, the population, headline figures and a label. Seeds become
64-bit (the CLI accepts any seed), and `parameters` is renamed `assumptions`, what it holds.

Revision ID: 0004
Revises: 0003
Create Date: 2025-03-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
COLUMNS = (
    ("label", sa.String(200), True, None),
    ("scenario_id", sa.String(200), False, ""),
    ("scenario_name", sa.String(200), False, ""),
    ("scenario", JSON_DATA, True, None),
    ("segment", sa.Text(), False, ""),
    ("horizon_days", sa.Integer(), False, "30"),
    ("replications", sa.Integer(), False, "1"),
    ("start_at", sa.DateTime(), True, None),
    ("data_version", sa.BigInteger(), True, None),
    ("contacts", sa.Integer(), False, "0"),
    ("entered", sa.Integer(), False, "0"),
    ("converted", sa.Integer(), False, "0"),
    ("revenue", sa.Double(), False, "0"),
)


def upgrade() -> None:
    with op.batch_alter_table("simulation_runs") as batch:
        batch.alter_column("parameters", new_column_name="assumptions")
        batch.alter_column(
            "seed", type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False
        )
        for name, type_, nullable, default in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=nullable, server_default=default))
        batch.create_index(op.f("ix_simulation_runs_scenario_id"), ["scenario_id"])


def downgrade() -> None:
    with op.batch_alter_table("simulation_runs") as batch:
        batch.drop_index(op.f("ix_simulation_runs_scenario_id"))
        for name, *_ in reversed(COLUMNS):
            batch.drop_column(name)
        batch.alter_column(
            "seed", type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=False
        )
        batch.alter_column("assumptions", new_column_name="parameters")
