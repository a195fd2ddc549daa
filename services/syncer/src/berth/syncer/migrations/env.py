"""Alembic environment of the syncer."""

from berth.common.migrations import run_env
from berth.syncer.models import Base

run_env(Base.metadata)
