"""Scanning metrics (defined once; labels of bounded cardinality)."""

from __future__ import annotations

from berth.common.metrics import metric_name
from berth.syncer.metrics import SERVICE
from prometheus_client import Counter, Histogram

SCANS = Counter(metric_name(SERVICE, "scans_total"), "Image scans by outcome",
                ["status"])
SCAN_DURATION = Histogram(
    metric_name(SERVICE, "scan_duration_seconds"), "Time to scan one image",
    buckets=(0.5, 1, 5, 15, 60, 300, 900, 3600))
SCAN_REQUESTS = Counter(metric_name(SERVICE, "scan_requests_total"),
                        "Scans queued, by trigger", ["trigger"])
