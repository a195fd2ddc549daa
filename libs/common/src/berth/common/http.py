"""The outbound HTTP client: timeouts always, retries only for idempotent calls,
a pooled session per destination."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class TimeoutSession(requests.Session):
    """A session that never waits forever: every request gets a timeout."""

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)


def make_session(*, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 retries: int = 2, pool_size: int = 20,
                 user_agent: str = "berth") -> TimeoutSession:
    """A pooled session retrying idempotent calls on connection errors and 502-504."""
    session = TimeoutSession(timeout)
    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=0.2, status_forcelist=(502, 503, 504),
                  allowed_methods=IDEMPOTENT, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size,
                          pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session
