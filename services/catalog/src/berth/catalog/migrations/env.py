"""Alembic environment of the catalog."""

from berth.catalog.models import Base
from berth.common.migrations import run_env

run_env(Base.metadata)
