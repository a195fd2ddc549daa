"""structlog JSON logging, one request id per request, secrets redacted."""

from __future__ import annotations

import functools
import logging
import re
import sys
import uuid
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from flask import Flask, Response

REQUEST_ID_HEADER = "X-Request-ID"
_SECRET_KEY = re.compile(r"pass|secret|token|authorization|cookie|credential|key$",
                         re.IGNORECASE)
_SAFE_KEYS = frozenset({"token_type", "jti", "kid"})
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


# Secrets by shape, wherever they sit (a message, an error text, an innocent
# key): JWTs, credentials in URLs, Authorization values, private keys, and the
# bound parameters SQLAlchemy puts in its exception texts.
_SECRET_VALUES = (
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "***"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^@\s/]+@"), r"\1:***@"),
    (re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{4,}"), r"\1 ***"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----"
                r"|$)", re.DOTALL), "***"),
    (re.compile(r"\[parameters: .*?\](?=\s*(\n|\(Background|$))", re.DOTALL),
     "[parameters: ***]"),
)
_MAX_DEPTH = 4


# Something every pattern above needs: most values (paths, names, ids) have
# none of it and are returned after one search instead of five.
_MAYBE_SECRET = re.compile(r"eyJ|://|(?i:basic|bearer)|-----BEGIN |\[parameters: ")


def scrub(text: str) -> str:
    """``text`` with secret-shaped substrings replaced by ``***``."""
    if _MAYBE_SECRET.search(text) is None:
        return text
    for pattern, replacement in _SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, MutableMapping):
        return {k: "***" if _secret_key(k, v) else _clean(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, depth + 1) for v in value]
    return value


def _secret_key(key: Any, value: Any) -> bool:
    return isinstance(key, str) and _secret_name(key) and bool(value)


@functools.lru_cache(maxsize=1024)
def _secret_name(key: str) -> bool:
    # Log keys are a small fixed set: each is matched once per process.
    return key not in _SAFE_KEYS and _SECRET_KEY.search(key) is not None


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor: replace values of secret-looking keys, and
    secret-shaped substrings of every value (nested too), with ``***``."""
    for key in list(event):
        if _secret_key(key, event[key]):
            event[key] = "***"
        else:
            event[key] = _clean(event[key])
    return event


_level = logging.INFO


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was
    configured: a stream swapped in for a while (a test's capture, a server's
    redirect) and closed afterwards must not take the log lines with it.

    A line that cannot be written (the reader of a pipe gone, the stream
    closed) is dropped: logging never fails the request or job that logs."""

    def write(self, text: str) -> int:
        try:
            return sys.stderr.write(text)
        except (OSError, ValueError):
            return 0

    def flush(self) -> None:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


_STDERR = _CurrentStderr()


def log_enabled(level: int) -> bool:
    """True when lines at ``level`` are written (see :func:`configure_logging`).

    A filtered structlog call still binds a logger through the lazy proxy
    (~10 µs); hot paths ask this first."""
    return level >= _level


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send JSON lines to stderr for ``service`` (idempotent)."""
    global _level
    _level = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=_level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # after format_exc_info: a traceback's text is scrubbed too
            redact,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_level),
        # A record and its newline in one write: processes sharing one pipe or
        # file (gunicorn's workers) then never split each other's lines.
        logger_factory=structlog.WriteLoggerFactory(_STDERR),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    if "flask" not in sys.modules:  # a worker: no requests in this process
        return None
    from flask import g

    try:
        return getattr(g, "request_id", None)
    except RuntimeError:
        return None


def describe_request(event: str, **fields: Any) -> None:
    """Name the current request's one log line ``event`` (instead of
    ``request_served``) and add ``fields`` to it: a view with something to
    say about its request says it there, not in a second line."""
    from flask import g

    g.request_log = (event, fields)


def install_request_logging(app: Flask) -> None:
    """Bind a request id to each request, echo it back, log one line per request."""
    from flask import g, request

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
        if log_enabled(logging.INFO) and request.path not in {"/metrics",
                                                              "/api/v1/_ping"}:
            event, fields = g.get("request_log", None) or ("request_served", {})
            log.info(event, method=request.method, path=request.path,
                     status=resp.status_code, **fields)
        return resp

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        structlog.contextvars.unbind_contextvars("request_id")
