"""Initial schema: users, activities with their streams, originals and derived products.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import runhub.store.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("first_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("last_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data_updated_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=True),
        sa.Column("client_key", sa.String(length=128), server_default="", nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("start_utc", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("utc_offset", sa.Integer(), server_default="0", nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("sport", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("elapsed_time", sa.Float(), nullable=True),
        sa.Column("timer_time", sa.Float(), nullable=True),
        sa.Column("moving_time", sa.Float(), nullable=True),
        sa.Column("n_samples", sa.Integer(), server_default="0", nullable=False),
        sa.Column("has_gps", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("possible_duplicate_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("multisport_group", sa.String(length=64), nullable=True),
        sa.Column("created_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_activities_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index("ix_activities_owner_content", ["owner_id", "client_key", "content_hash"], unique=True)
        batch_op.create_index("ix_activities_owner_external", ["owner_id", "client_key", "external_id"], unique=True)
        batch_op.create_index("ix_activities_owner_start", ["owner_id", "start_utc"], unique=False)
        batch_op.create_index("ix_activities_owner_updated", ["owner_id", "updated_at"], unique=False)
        batch_op.create_index("ix_activities_sport", ["sport"], unique=False)

    op.create_table(
        "activity_originals",
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_originals_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_activity_originals")),
    )
    op.create_table(
        "activity_products",
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("start_utc", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sport", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_products_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "kind", name=op.f("pk_activity_products")),
    )
    with op.batch_alter_table("activity_products", schema=None) as batch_op:
        batch_op.create_index("ix_products_owner_kind_start", ["owner_id", "kind", "start_utc"], unique=False)

    op.create_table(
        "activity_streams",
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_streams_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_activity_streams")),
    )

    op.create_table(
        "body_weights",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("created_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_body_weights_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_body_weights")),
    )
    with op.batch_alter_table("body_weights", schema=None) as batch_op:
        batch_op.create_index("ix_body_weights_owner_date", ["owner_id", "date"], unique=False)

    op.create_table(
        "goals",
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("updated_at", runhub.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_goals_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner_id", "year", "month", name=op.f("pk_goals")),
    )


def downgrade() -> None:
    op.drop_table("goals")
    with op.batch_alter_table("body_weights", schema=None) as batch_op:
        batch_op.drop_index("ix_body_weights_owner_date")
    op.drop_table("body_weights")
    op.drop_table("activity_streams")
    with op.batch_alter_table("activity_products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_owner_kind_start")

    op.drop_table("activity_products")
    op.drop_table("activity_originals")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_sport")
        batch_op.drop_index("ix_activities_owner_updated")
        batch_op.drop_index("ix_activities_owner_start")
        batch_op.drop_index("ix_activities_owner_external")
        batch_op.drop_index("ix_activities_owner_content")

    op.drop_table("activities")
    op.drop_table("users")
