"""Prometheus metrics of webhook deliveries, defined once."""

from __future__ import annotations

from berth.common.metrics import metric_name
from prometheus_client import Counter, Histogram

ATTEMPTS = Counter(metric_name("catalog", "webhook_attempts_total"),
                   "Webhook delivery attempts", ["outcome"])
SCHEDULED = Counter(metric_name("catalog", "webhook_deliveries_scheduled_total"),
                    "Webhook deliveries scheduled", ["action"])
DURATION = Histogram(metric_name("catalog", "webhook_attempt_duration_seconds"),
                     "Duration of webhook delivery attempts")
