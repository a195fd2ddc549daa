"""Helpers shared by the views: run an API call for a form and report the
outcome as a flash message, read list parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from berth.webui.api_client import ApiError, ServiceDown
from berth.webui.config import WebuiConfig
from flask import current_app, flash, request

T = TypeVar("T")


def attempt(action: Callable[[], T], success: str | None = None) -> T | None:
    """Run ``action``; flash its error message (422, 409, 403...) and return None.

    A 401 (session ended) and a service being down are not form errors: they
    propagate to the error pages."""
    try:
        result = action()
    except ServiceDown:
        raise
    except ApiError as exc:
        if exc.status == 401:
            raise
        flash(exc.message, "error")
        return None
    if success:
        flash(success, "success")
    return result


def page_arg() -> int:
    """The ``page`` query parameter (1 when missing or malformed)."""
    raw = request.args.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


def config() -> WebuiConfig:
    """The web UI's configuration."""
    cfg: WebuiConfig = current_app.extensions["berth.webui.config"]
    return cfg


def list_params(**extra: Any) -> dict[str, Any]:
    """Pagination parameters for an API list call."""
    return {"page": page_arg(), "per_page": config().per_page, **extra}


def int_field(name: str) -> int | None:
    """A positive integer form field, or None."""
    raw = (request.form.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None
