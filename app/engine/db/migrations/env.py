"""Alembic environment, driven from `app.engine.db.session.migrate` with an open connection.

There is no alembic.ini: the caller puts the connection into the config's attributes, so the
migrations run inside the caller's transaction (atomic on PostgreSQL and, with the pysqlite
BEGIN fix in session.py, on SQLite too).
"""

from alembic import context

from app.engine.db.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
