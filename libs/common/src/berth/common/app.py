"""The parts of every service's app factory that are the same everywhere."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from berth.common.errors import install_error_handlers
from berth.common.logging import configure_logging, install_request_logging
from berth.common.metrics import install_metrics
from berth.common.web import parse_networks

MAX_BODY_BYTES = 1024 * 1024
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to a signed 64-bit column: a larger id is a 404,
    not an overflow inside the database driver (a 500)."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ID:
            # Not a "no match": that could fall through to another rule (405).
            raise NotFound()
        return number


def base_app(service: str, import_name: str, *, log_level: str = "INFO",
             max_body: int = MAX_BODY_BYTES,
             trusted_proxies: str = "127.0.0.0/8,::1/128") -> Flask:
    """A Flask app with logging, the error shape, metrics and a body size limit."""
    configure_logging(service, log_level)
    app = Flask(import_name)
    app.url_map.converters["int"] = IdConverter
    app.config["MAX_CONTENT_LENGTH"] = max_body
    app.config["BERTH_TRUSTED_PROXIES"] = parse_networks(trusted_proxies)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    install_error_handlers(app)
    install_request_logging(app)
    install_metrics(app, service)

    @app.before_request
    def _limit_body() -> None:
        # Refuse early: Flask only enforces the limit when a view reads the body.
        length = request.content_length
        if length is not None and length > max_body:
            raise RequestEntityTooLarge()

    return app
