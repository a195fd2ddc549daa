"""structlog JSON logging, one request id per request, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog
from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_SECRET_KEY = re.compile(r"pass|secret|token|authorization|cookie|credential|key$",
                         re.IGNORECASE)
_SAFE_KEYS = frozenset({"token_type", "jti", "kid"})
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: replace values of secret-looking keys with ``***``."""
    for key in list(event):
        if key not in _SAFE_KEYS and _SECRET_KEY.search(key) and event[key]:
            event[key] = "***"
    return event


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send JSON lines to stderr for ``service`` (idempotent)."""
    logging.basicConfig(format="%(message)s", stream=sys.stderr,
                        level=getattr(logging, level.upper(), logging.INFO))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    try:
        return getattr(g, "request_id", None)
    except RuntimeError:
        return None


def install_request_logging(app: Flask) -> None:
    """Bind a request id to each request, echo it back, log one line per request."""
    log = structlog.get_logger("berth.request")

    @app.before_request
    def _bind() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        g.request_id = rid
        structlog.contextvars.bind_contextvars(request_id=rid)

    @app.after_request
    def _finish(resp: Response) -> Response:
        rid = getattr(g, "request_id", None)
        if rid:
            resp.headers[REQUEST_ID_HEADER] = rid
        if request.path not in {"/metrics", "/api/v1/_ping"}:
            log.info("request_served", method=request.method, path=request.path,
                     status=resp.status_code)
        return resp

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        structlog.contextvars.unbind_contextvars("request_id")
