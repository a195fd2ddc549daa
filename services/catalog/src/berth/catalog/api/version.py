"""``GET /api/version`` (Portus' Version entity)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, jsonify

bp = Blueprint("version", __name__)


@bp.get("/api/version")
def show() -> Response:
    """Supported API versions and the catalog's version."""
    try:
        current = version("berth-catalog")
    except PackageNotFoundError:
        current = "unknown"
    return jsonify({"api-versions": ["v1"], "git": None, "version": current})
