"""Alembic environment of the token service."""

from berth.common.migrations import run_env
from berth.token.models import Base

run_env(Base.metadata)
