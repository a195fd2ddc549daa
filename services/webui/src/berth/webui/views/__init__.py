"""The web UI's pages, one blueprint per area."""

from __future__ import annotations

from berth.webui.views import (
    admin,
    auth,
    home,
    namespaces,
    profile,
    repositories,
    scanning,
    teams,
    webhooks,
)
from flask import Flask


def register_views(app: Flask) -> None:
    """Register every blueprint with ``app``."""
    for module in (auth, home, namespaces, teams, repositories, scanning, profile,
                   admin, webhooks):
        app.register_blueprint(module.bp)
