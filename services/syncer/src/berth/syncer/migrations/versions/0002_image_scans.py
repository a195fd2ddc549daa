"""Image scans: status, inventory and findings per manifest digest.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_scans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(100), nullable=False),
        sa.Column("registry", sa.String(255), nullable=False),
        sa.Column("repository", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scanner", sa.String(32), nullable=True),
        sa.Column("db_version", sa.String(64), nullable=True),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("os", sa.String(255), nullable=True),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("findings", sa.JSON, nullable=True),
        sa.Column("inventory", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_image_scans"),
        sa.UniqueConstraint("digest", name="uq_image_scans_digest"),
    )
    op.create_index("ix_image_scans_status", "image_scans", ["status"])


def downgrade() -> None:
    op.drop_index("ix_image_scans_status", table_name="image_scans")
    op.drop_table("image_scans")
