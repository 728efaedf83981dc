"""A data version bumped by triggers on every change of contact data, and a cache of the
columnar snapshot that stays valid while the version is unchanged.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-17
"""

import sqlalchemy as sa
from alembic import op

from app.engine.db.versioning import drop_trigger_ddl, trigger_ddl

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    version = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(version, [{"id": 1, "version": 1}])
    op.create_table(
        "column_cache",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_column_cache")),
    )
    # The trigger text lives in versioning.py because bulk writers re-create it on SQLite.
    for statement in trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_trigger_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("column_cache")
    op.drop_table("data_version")
