"""The web UI's own metrics (HTTP metrics come from berth.common.metrics)."""

from __future__ import annotations

from berth.common.metrics import metric_name
from prometheus_client import Counter

UPSTREAM_ERRORS = Counter(
    metric_name("webui", "upstream_errors_total"),
    "Calls to another Berth service that failed", ["service", "reason"])
LOGINS = Counter(metric_name("webui", "logins_total"), "Sign-in attempts", ["outcome"])
CSRF_REJECTED = Counter(metric_name("webui", "csrf_rejected_total"),
                        "State-changing requests refused for a missing or bad CSRF token")
