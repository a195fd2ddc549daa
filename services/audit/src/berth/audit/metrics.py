"""The audit service's Prometheus metrics, defined once per process."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from berth.common.metrics import metric_name

# Action groups known here; anything else counts as "other" (bounded labels).
GROUPS = frozenset({"repository", "namespace", "team", "user", "login",
                    "application_token", "registry", "webhook", "tag", "comment",
                    "sync"})

RECORDS_WRITTEN = Counter(
    metric_name("audit", "records_written_total"),
    "Audit records appended to the chain", ["group"])
DUPLICATES = Counter(
    metric_name("audit", "duplicate_events_total"),
    "Events already recorded (redelivered or published twice)")
VERIFICATIONS = Counter(
    metric_name("audit", "chain_verifications_total"),
    "Chain verifications run", ["result"])
PRUNED = Counter(
    metric_name("audit", "records_pruned_total"),
    "Audit records removed by retention")
FORWARDED = Counter(
    metric_name("audit", "records_forwarded_total"),
    "Records sent to the syslog collector", ["result"])
LAG = Histogram(
    metric_name("audit", "ingest_lag_seconds"),
    "Seconds from an event's occurrence to its record",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600))


def group_of(action: str) -> str:
    """The bounded label for ``action``."""
    group = action.split(".", 1)[0]
    return group if group in GROUPS else "other"
