"""The token service's metrics, defined once."""

from berth.common.metrics import metric_name
from prometheus_client import Counter, Histogram

SERVICE = "token"

TOKENS_ISSUED = Counter(metric_name(SERVICE, "tokens_issued_total"),
                        "JWTs issued", ["kind"])  # registry, api
LOGINS = Counter(metric_name(SERVICE, "logins_total"),
                 "Authentication attempts", ["result", "detail"])
PASSWORD_CACHE = Counter(metric_name(SERVICE, "password_cache_total"),
                         "Password verification cache lookups", ["result"])
AUTHORIZE_SECONDS = Histogram(metric_name(SERVICE, "authorize_duration_seconds"),
                              "Time spent asking the catalog for a decision")
