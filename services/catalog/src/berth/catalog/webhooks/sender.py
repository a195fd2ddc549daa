"""One HTTP attempt of a delivery, measured and truncated for the log."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from berth.catalog.webhooks.ssrf import AddressPolicy, Refused, Resolver, resolve
from berth.catalog.webhooks.transport import guarded_session

BODY_LIMIT = 64 * 1024
HEADER_LIMIT = 16 * 1024
REDACTED = ("authorization", "proxy-authorization", "cookie")


def truncate(text: str, limit: int = BODY_LIMIT) -> str:
    """At most ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"


def header_text(headers: Mapping[str, str]) -> str:
    """Headers as a JSON object for the log, credentials redacted."""
    shown = {k: ("[redacted]" if k.lower() in REDACTED else v)
             for k, v in headers.items()}
    return truncate(json.dumps(shown, sort_keys=True), HEADER_LIMIT)


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status, or an error (never both missing)."""

    status: int | None
    response_header: str
    response_body: str
    duration_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class Sender:
    """Sends webhook requests through the address-checking session."""

    def __init__(self, policy: AddressPolicy, timeout: float,
                 resolver: Resolver = resolve) -> None:
        self.timeout = timeout
        self._session = guarded_session(policy, resolver)

    def send(self, method: str, url: str, headers: Mapping[str, str],
             body: bytes) -> Outcome:
        """One request; errors are outcomes, not exceptions."""
        started = time.monotonic()
        try:
            resp = self._session.request(method, url, headers=dict(headers), data=body,
                                         timeout=self.timeout, stream=True,
                                         allow_redirects=False)
        except Refused as exc:
            return self._failed(started, f"refused: {exc}")
        except requests.Timeout:
            return self._failed(started, f"timed out after {self.timeout:g} s")
        except requests.RequestException as exc:
            return self._failed(started, f"{type(exc).__name__}: {str(exc)[:300]}")
        try:
            raw = resp.raw.read(BODY_LIMIT + 1, decode_content=True) or b""
        except (requests.RequestException, OSError) as exc:
            raw = f"[unreadable: {type(exc).__name__}]".encode()
        finally:
            resp.close()
        return Outcome(status=resp.status_code,
                       response_header=header_text(resp.headers),
                       response_body=truncate(raw.decode("utf-8", "replace")),
                       duration_ms=_ms(started))

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    @staticmethod
    def _failed(started: float, error: str) -> Outcome:
        return Outcome(status=None, response_header="", response_body="",
                       duration_ms=_ms(started), error=error[:500])


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
