"""Settings of the audit service, read once from ``BERTH_AUDIT_*``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from berth.audit.forwarding import parse_target
from berth.common.config import CommonSettings, Secret, setting, sqlite_default


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be 1 or more")
    return value


def verify_processes_default(_env: Mapping[str, str] | None = None) -> int:
    """Processes of a long verification unless configured: one per CPU, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def _syslog_url(raw: str) -> str:
    value = raw.strip()
    if value:
        parse_target(value)
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be more than 0")
    return value


@dataclasses.dataclass(frozen=True)
class AuditConfig(CommonSettings):
    """Everything the audit service's app and worker read from the environment."""

    database_url: str = setting(
        "BERTH_AUDIT_DATABASE_URL", default=sqlite_default("audit"), secret=True,
        help="SQLAlchemy URL of the audit database")
    retention_days: int = setting(
        "BERTH_AUDIT_RETENTION_DAYS", default=0, parse=_non_negative_int,
        help="prune records older than this many days; 0 keeps them forever")
    retention_interval: float = setting(
        "BERTH_AUDIT_RETENTION_INTERVAL", default=3600.0, parse=_positive_float,
        help="seconds between two retention runs of the worker")
    anchor_key: Secret = setting(  # noqa: RUF009 - setting() is a field()
        "BERTH_AUDIT_ANCHOR_KEY", default="", secret=True,
        help="HMAC key of retention anchors; empty = generated under "
             "BERTH_HOME/secrets/audit-anchor")
    syslog_url: str = setting(
        "BERTH_AUDIT_SYSLOG_URL", default="", parse=_syslog_url,
        help="forward every record to this RFC 5424 collector: udp://host:port or "
             "tcp://host:port; empty = no forwarding")
    syslog_app_name: str = setting(
        "BERTH_AUDIT_SYSLOG_APP_NAME", default="berth-audit",
        help="APP-NAME of forwarded syslog messages")
    visibility_ttl: float = setting(
        "BERTH_AUDIT_VISIBILITY_TTL", default=5.0, parse=_positive_float,
        help="seconds each process keeps the catalog's answer of what a user may "
             "see (their namespaces and teams)")
    verify_processes: int = setting(
        "BERTH_AUDIT_VERIFY_PROCESSES", default=verify_processes_default,
        parse=_positive_int,
        help="worker processes that check a chain of 50,000 records or more; "
             "1 = check it in the process serving the request; default: one per "
             "CPU, at most 4")
