"""Alembic environment of the audit service."""

from berth.audit.models import Base
from berth.common.migrations import run_env

run_env(Base.metadata)
