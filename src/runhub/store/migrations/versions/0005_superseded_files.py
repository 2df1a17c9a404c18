"""The bytes of files an activity was stored from and then overwritten by a newer file of the
same recorder (tables.superseded_files): a file import holds them, so a folder imported again
changes nothing.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "superseded_files",
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_superseded_files_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "content_hash", name=op.f("pk_superseded_files")),
    )
    with op.batch_alter_table("superseded_files", schema=None) as batch_op:
        batch_op.create_index("ix_superseded_owner_hash", ["owner_id", "content_hash"], unique=False)


def downgrade() -> None:
    op.drop_table("superseded_files")
