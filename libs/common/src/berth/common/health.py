"""``GET /api/v1/_ping`` and ``GET /api/v1/health`` for every service.

Health answers 200 when every dependency check passes and 503 otherwise, in
Portus' shape: ``{"<dependency>": {"success": bool, "msg": str}, ...}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask, Response


Check = Callable[[], None]


def run_checks(checks: Mapping[str, Check]) -> tuple[bool, dict[str, dict[str, object]]]:
    """Run every check; a check passes when it returns without raising."""
    report: dict[str, dict[str, object]] = {}
    ok = True
    for name, check in checks.items():
        try:
            check()
            report[name] = {"success": True, "msg": f"{name} is reachable"}
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            ok = False
            report[name] = {"success": False,
                            "msg": f"{name} is unavailable: {type(exc).__name__}"}
    return ok, report


def install_health(app: Flask, checks: Mapping[str, Check]) -> None:
    """Register the ping and health endpoints with ``checks`` (name -> callable)."""
    from flask import jsonify


    @app.get("/api/v1/_ping")
    def ping() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/api/v1/health")
    def health() -> tuple[Response, int]:
        ok, report = run_checks(checks)
        return jsonify(report), 200 if ok else 503
