"""``/api/v1/sync``: start a reconcile, list and show runs (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from berth.common.auth import require_admin
from berth.common.db import get_session
from berth.common.errors import Invalid
from berth.common.web import field, page_params, pagination_headers, request_data
from berth.syncer.errors import RunNotFound
from berth.syncer.models import SyncRun
from berth.syncer.state import syncer
from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy import func, select

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync")
SORT_KEYS = {"started_at": SyncRun.started_at, "id": SyncRun.id}
STRATEGIES = ("update", "update-delete")


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def run_entity(run: SyncRun) -> dict[str, Any]:
    """The API form of a run."""
    return {
        "id": run.id, "status": run.status, "strategy": run.strategy,
        "triggered_by": run.triggered_by, "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at), "duration": run.duration,
        "repositories": run.repositories, "tags": run.tags, "added": run.added,
        "removed": run.removed, "changed": run.changed, "errors": run.errors,
        "error_details": list(run.error_details or []),
    }


@bp.post("")
def start() -> tuple[Response, int, dict[str, str]]:
    """Start a reconcile now (202 with the run; 409 if one is running)."""
    principal = require_admin()
    data = request_data()
    strategy = field(data, "strategy", required=False, max_length=32)
    if strategy is not None and strategy not in STRATEGIES:
        raise Invalid(f"strategy must be one of {', '.join(STRATEGIES)}",
                      detail={"field": "strategy"})
    run = syncer().reconciler.run_in_background(principal.username, strategy)
    location = url_for("sync.show", run_id=run.id)
    return jsonify(run_entity(run)), 202, {"Location": location}


@bp.get("")
def index() -> tuple[Response, int, dict[str, str]]:
    """The most recent runs first (Portus list parameters)."""
    require_admin()
    page = page_params(list(SORT_KEYS), default_sort="started_at")
    column = SORT_KEYS[page.sort_attr]
    # Newest first unless the client asks otherwise.
    descending = page.descending or "sort_order" not in request.args
    session = get_session()
    total = session.scalar(select(func.count()).select_from(SyncRun)) or 0
    query = select(SyncRun).order_by(column.desc() if descending else column.asc(),
                                     SyncRun.id.desc() if descending else SyncRun.id)
    if not page.all:
        query = query.offset(page.offset).limit(page.per_page)
    runs = session.scalars(query).all()
    return jsonify([run_entity(r) for r in runs]), 200, pagination_headers(page, total)


@bp.get("/<int:run_id>")
def show(run_id: int) -> Response:
    """One run."""
    require_admin()
    run = get_session().get(SyncRun, run_id)
    if run is None:
        raise RunNotFound("no such sync run", detail={"id": run_id})
    return jsonify(run_entity(run))
