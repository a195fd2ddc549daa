"""The syncer's metrics, defined once (labels of bounded cardinality only)."""

from __future__ import annotations

from berth.common.metrics import metric_name
from prometheus_client import Counter, Histogram

SERVICE = "syncer"

NOTIFICATIONS = Counter(
    metric_name(SERVICE, "notifications_total"),
    "Registry notification events by outcome", ["outcome"])
NOTIFICATION_REQUESTS = Counter(
    metric_name(SERVICE, "notification_requests_total"),
    "Notification requests by result", ["result"])
SYNC_RUNS = Counter(
    metric_name(SERVICE, "sync_runs_total"), "Reconcile runs by status", ["status"])
SYNC_CHANGES = Counter(
    metric_name(SERVICE, "sync_changes_total"),
    "Differences a reconcile published", ["kind"])
SYNC_DURATION = Histogram(
    metric_name(SERVICE, "sync_duration_seconds"), "Reconcile run duration",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600))
REGISTRY_ERRORS = Counter(
    metric_name(SERVICE, "registry_errors_total"),
    "Registry calls that failed, by kind", ["kind"])
MANIFEST_DELETES = Counter(
    metric_name(SERVICE, "manifest_deletes_total"),
    "Manifest deletes requested, by result", ["result"])
