"""Prometheus metrics of the catalog, defined once."""

from __future__ import annotations

from berth.common.metrics import metric_name
from prometheus_client import Counter

AUTHORIZE_DECISIONS = Counter(
    metric_name("catalog", "authorize_actions_total"),
    "Actions decided by /internal/v1/authorize", ["action", "result"])
REGISTRY_EVENTS = Counter(
    metric_name("catalog", "registry_events_total"),
    "Registry events applied", ["type", "outcome"])
MANIFEST_DELETES = Counter(
    metric_name("catalog", "manifest_deletes_total"),
    "Manifest deletions requested from the syncer", ["outcome"])
