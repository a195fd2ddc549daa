"""``/api/v1/audit``: list, show, export and verify audit records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    request,
)
from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from berth.audit import metrics
from berth.audit.api.serialize import CSV_COLUMNS, csv_row, record_dict
from berth.audit.config import AuditConfig
from berth.audit.errors import InvalidFilter, RecordNotFound
from berth.audit.memberships import Memberships, Scope
from berth.audit.models import AuditRecord
from berth.audit.services import queries
from berth.audit.services.verification import verify_chain
from berth.common.auth import Principal, require_admin, require_user
from berth.common.db import get_session
from berth.common.web import page_params, pagination_headers

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit")

# "all=true" is Portus' way to skip paging; a bound keeps one response sane.
MAX_ALL = 10_000
MAX_ID = 2**63 - 1   # BIGINT; larger ids cannot exist (and overflow SQLite)
# Sent when X-Total is a lower bound (past queries.COUNT_CAP matches).
CAPPED_HEADER = "X-Total-Capped"


def _time(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise InvalidFilter(f"{name} must be an ISO 8601 time",
                            detail={"field": name}) from exc
    return value


def _filters() -> queries.Filters:
    args = request.args
    for name in ("actor", "action", "namespace", "repository", "target",
                 "target_type", "q"):
        if len(args.get(name, "")) > 255:
            raise InvalidFilter(f"{name} is too long", detail={"field": name})
    return queries.Filters(
        actor=args.get("actor") or None, action=args.get("action") or None,
        namespace=args.get("namespace") or None,
        repository=args.get("repository") or None,
        target_type=args.get("target_type") or None,
        target=args.get("target") or None, since=_time("since"),
        until=_time("until"), q=args.get("q") or None)


def _scope(principal: Principal) -> Scope | None:
    """What the catalog says ``principal`` may see (None: admins, nameless)."""
    if principal.admin or principal.id is None:
        return None
    memberships: Memberships = current_app.extensions["berth.audit.memberships"]
    return memberships.scope_for(principal.id)


def _query() -> tuple[Principal, Select[AuditRecord]]:
    principal = require_user()
    filters = _filters()
    visible = queries.visible_to(principal, _scope(principal))
    return principal, queries.apply_filters(visible, filters)


def _hide_address(principal: Principal, record: AuditRecord) -> bool:
    # Another user's client address is theirs: only admins and the user see it.
    return not principal.admin and not queries.is_own(principal, record)


def _shown(principal: Principal, record: AuditRecord) -> dict[str, Any]:
    body = record_dict(record)
    if _hide_address(principal, record):
        body["actor"]["address"] = None
    return body


@bp.get("")
@bp.get("/events")
def list_records() -> Response:
    """Records, newest first unless ``sort_order=asc``; Portus paging or a cursor."""
    principal, query = _query()
    session = get_session()
    if "cursor" in request.args:
        return _by_cursor(principal, query)
    page = page_params(queries.SORT_KEYS, default_sort="occurred_at")
    if page.offset > MAX_ID:
        raise InvalidFilter("page is too large", detail={"field": "page"})
    descending = page.descending or "sort_order" not in request.args
    ordered = queries.ordered(query, page.sort_attr, descending)
    offset, limit = (0, MAX_ALL) if page.all else (page.offset, page.per_page)
    rows = list(session.scalars(ordered.offset(offset).limit(limit)))
    total = queries.page_total(session, query, offset, limit, len(rows))
    resp = jsonify([_shown(principal, r) for r in rows])
    resp.headers.update(pagination_headers(page, total.value))
    if total.capped:
        resp.headers[CAPPED_HEADER] = "true"
    return resp


def _by_cursor(principal: Principal, query: Select[AuditRecord]) -> Response:
    raw = request.args.get("cursor", "")
    try:
        per_page = min(int(request.args.get("per_page", 15)), 100)
        cursor = int(raw) if raw else None
    except ValueError as exc:
        raise InvalidFilter("cursor and per_page must be integers",
                            detail={"field": "cursor"}) from exc
    if per_page < 1 or (cursor is not None and cursor < 1):
        raise InvalidFilter("cursor and per_page must be positive",
                            detail={"field": "cursor"})
    if cursor is not None:
        query = query.where(AuditRecord.id < min(cursor, MAX_ID))
    rows = list(get_session().scalars(
        query.order_by(AuditRecord.id.desc()).limit(per_page + 1)))
    resp = jsonify([_shown(principal, r) for r in rows[:per_page]])
    if len(rows) > per_page:
        resp.headers["X-Next-Cursor"] = str(rows[per_page - 1].id)
    return resp


@bp.get("/<int:record_id>")
@bp.get("/events/<int:record_id>")
def show_record(record_id: int) -> Response:
    """One record; missing and not visible answer the same 404."""
    principal = require_user()
    record = None
    if record_id <= MAX_ID:
        record = queries.find(get_session(), principal, record_id,
                              _scope(principal))
    if record is None:
        raise RecordNotFound("audit record not found", detail={"id": record_id})
    return jsonify(_shown(principal, record))


@bp.get("/export")
def export() -> Response:
    """Every matching record, oldest first, streamed as CSV or JSON Lines."""
    fmt = request.args.get("format", "csv")
    if fmt not in {"csv", "jsonl"}:
        raise InvalidFilter("format must be csv or jsonl", detail={"field": "format"})
    principal, query = _query()
    # The stream outlives the request: it reads through its own session,
    # closed when the stream ends or the client goes away (WSGI close()).
    factory: sessionmaker[Session] = current_app.extensions["berth.sessionmaker"]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    def csv_lines() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        with factory() as session:
            for record in queries.stream(session, query):
                writer.writerow(csv_row(
                    record, hide_address=_hide_address(principal, record)))
                if buf.tell() > 64 * 1024:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
        yield buf.getvalue()

    def json_lines() -> Iterator[str]:
        with factory() as session:
            for record in queries.stream(session, query):
                yield json.dumps(_shown(principal, record),
                                 separators=(",", ":")) + "\n"

    if fmt == "csv":
        body, mimetype = csv_lines(), "text/csv"
    else:
        body, mimetype = json_lines(), "application/x-ndjson"
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="audit-{stamp}.{fmt}"')
    return resp


@bp.get("/verify")
def verify() -> Response:
    """Walk the chain (admins only): intact, or the first broken record."""
    require_admin()
    key: bytes = current_app.extensions["berth.audit.anchor_key"]
    config: AuditConfig = current_app.extensions["berth.audit.config"]
    report = verify_chain(get_session(), key, processes=config.verify_processes)
    metrics.VERIFICATIONS.labels("intact" if report.intact else "broken").inc()
    return jsonify(report.to_dict())
