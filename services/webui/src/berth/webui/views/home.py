"""Dashboard, Explore and Search."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from berth.webui.api_client import ApiError, ServiceDown
from berth.webui.sessions import api, current_user
from berth.webui.views.forms import config, list_params
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

bp = Blueprint("home", __name__)
# The dashboard's panels come from independent API calls: asked together, the
# page waits for the slowest one instead of their sum.
_PANELS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webui-panel")


def _together(*loads: Callable[[], Any]) -> list[Any]:
    """Run ``loads`` concurrently, each in a copy of this request's context
    (so the request id and the upstream timing follow); re-raise the first
    error in order."""
    futures = [_PANELS.submit(contextvars.copy_context().run, load) for load in loads]
    return [future.result() for future in futures]


def _optional(load: Any) -> Any:
    """A dashboard panel whose service is down shows a notice, not an error page."""
    try:
        return load()
    except ServiceDown:
        return None
    except ApiError as exc:
        if exc.status == 401:
            raise
        return None


@bp.get("/")
def dashboard() -> Response | str:
    """My activity, my repositories, starred repositories and counts."""
    me = current_user()
    if me is None:
        target = "home.explore" if config().anonymous_browsing else "auth.login"
        return redirect(url_for(target))
    client = api()
    repositories, starred, namespaces, teams, activity = _together(
        lambda: client.repositories(per_page=10, sort_attr="updated_at",
                                    sort_order="desc"),
        lambda: _optional(lambda: client.starred(per_page=10)),
        lambda: _optional(lambda: client.namespaces(per_page=1)),
        lambda: _optional(lambda: client.teams(per_page=1)),
        lambda: _optional(lambda: client.audit_events(per_page=10)))
    return render_template("dashboard.html", repositories=repositories,
                           starred=starred, namespaces=namespaces, teams=teams,
                           activity=activity)


@bp.get("/explore")
def explore() -> Response | str:
    """Public repositories (what anyone may pull)."""
    if current_user() is None and not config().anonymous_browsing:
        return redirect(url_for("auth.login", next=request.path))
    repositories = api().repositories(**list_params())
    return render_template("explore.html", repositories=repositories)


@bp.get("/search")
def search() -> str:
    """Repositories, namespaces and teams matching ``q`` (fragment for live search)."""
    q = (request.args.get("q") or "").strip()[:255]
    results: dict[str, Any] = {}
    if q:
        results = api().search(q, per_page=config().per_page)
    template = "_search_results.html" if request.args.get("partial") else "search.html"
    return render_template(template, q=q, results=results)
