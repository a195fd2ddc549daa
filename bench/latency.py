"""Sequential request timing: what one client waits for each answer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from bench.report import median, percentile


@dataclass
class Timing:
    """Latency figures of one endpoint, in milliseconds."""

    p50_ms: float
    p99_ms: float
    requests: int

    def text(self) -> str:
        """``p50 x ms, p99 y ms``."""
        return f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"


def measure(http: requests.Session, url: str, count: int, *, warmup: int = 3,
            **kw: object) -> Timing:
    """GET ``url`` ``count`` times after ``warmup`` unmeasured ones; 2xx only."""
    samples = []
    for i in range(warmup + count):
        started = time.perf_counter()
        resp = http.get(url, timeout=60, **kw)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        if resp.status_code >= 300:
            raise RuntimeError(f"GET {url}: {resp.status_code} {resp.text[:300]}")
        if i >= warmup:
            samples.append(elapsed * 1000)
    return Timing(p50_ms=median(samples), p99_ms=percentile(samples, 99),
                  requests=count)
