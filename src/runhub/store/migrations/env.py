"""Alembic environment: runs on the connection runhub hands over (Database.upgrade)."""

from alembic import context

from runhub.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through runhub (runhub db upgrade)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
