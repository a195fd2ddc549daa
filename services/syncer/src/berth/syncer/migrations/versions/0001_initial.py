"""Observed state, seen notifications, sync runs, the lock, outbox tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observed_repositories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("registry", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("last_seen_run", sa.Integer, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_observed_repositories"),
        sa.UniqueConstraint("registry", "name",
                            name="uq_observed_repositories_registry_name"),
    )
    op.create_table(
        "observed_tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("repository_id", sa.Integer, nullable=False),
        sa.Column("tag", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(100), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_observed_tags"),
        sa.ForeignKeyConstraint(
            ["repository_id"], ["observed_repositories.id"], ondelete="CASCADE",
            name="fk_observed_tags_repository_id_observed_repositories"),
        sa.UniqueConstraint("repository_id", "tag",
                            name="uq_observed_tags_repository_id_tag"),
    )
    op.create_index("ix_observed_tags_repository_id", "observed_tags",
                    ["repository_id"])
    op.create_table(
        "seen_notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seen_notifications"),
        sa.UniqueConstraint("event_id", name="uq_seen_notifications_event_id"),
    )
    op.create_index("ix_seen_notifications_seen_at", "seen_notifications",
                    ["seen_at"])
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("triggered_by", sa.String(255), nullable=False),
        sa.Column("repositories", sa.Integer, nullable=False),
        sa.Column("tags", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("error_details", sa.JSON, nullable=False),
        sa.Column("duration", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_started_at", "sync_runs", ["started_at"])
    op.create_table(
        "sync_locks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_sync_locks"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_table(
        "processed_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("processed_at", sa.DateTime, nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_processed_events"),
        sa.UniqueConstraint("consumer", "event_id",
                            name="uq_processed_events_consumer_event_id"),
    )


def downgrade() -> None:
    for table in ("processed_events", "outbox", "sync_locks", "sync_runs",
                  "seen_notifications", "observed_tags", "observed_repositories"):
        op.drop_table(table)
