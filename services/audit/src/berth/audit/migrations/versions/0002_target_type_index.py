"""An index on (target_type, occurred_at) for filters by target type.

A filter by target type (``?target_type=tag``) matched most of the log, and
counting its matches for the paging headers read every row of the table: 1.1 s
at 240,000 records on MariaDB. With this index the count reads the index only,
and the newest-first page reads it in order.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_records_target_type_occurred_at", "audit_records",
                    ["target_type", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_target_type_occurred_at",
                  table_name="audit_records")
