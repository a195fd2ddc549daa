"""Vulnerabilities and SBOM per tag; rescans (Portus' /api/v1/vulnerabilities).

The tag id is the catalog's; the catalog maps it to an image with the
caller's own credentials, so a tag the caller may not see is a 404 here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from berth.common.auth import current_principal, require_admin, require_internal
from berth.common.db import get_session
from berth.common.errors import Invalid
from berth.syncer.models import ImageScan
from berth.syncer.scanning import queue
from berth.syncer.scanning.errors import SbomUnknown
from berth.syncer.scanning.metrics import SCAN_REQUESTS
from berth.syncer.scanning.osv import summarize
from berth.syncer.scanning.sbom import MEDIA_TYPE, cyclonedx, inventory_from_dict
from berth.syncer.scanning.scanner import Scanner
from berth.syncer.scanning.tags import TagRef, TagResolver
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import select

bp = Blueprint("scanning", __name__, url_prefix="/api/v1")
internal_bp = Blueprint("scanning_internal", __name__, url_prefix="/internal/v1")
MAX_DIGESTS = 200


@dataclass
class Scanning:
    """The scanning API's collaborators."""

    tags: TagResolver
    scanner: Scanner


def install(app: Flask, tags: TagResolver, scanner: Scanner) -> None:
    """Register the scanning routes on the syncer's app."""
    app.extensions["berth.syncer.scanning"] = Scanning(tags=tags, scanner=scanner)
    app.register_blueprint(bp)
    app.register_blueprint(internal_bp)


def _state() -> Scanning:
    found: Scanning = current_app.extensions["berth.syncer.scanning"]
    return found


def _tag_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("tag id must be a positive integer", detail={"field": "id"})
    return int(raw)


def _tag(raw: str) -> TagRef:
    # Resolve the caller first: bad credentials are a 401 here, not the catalog's.
    current_principal()
    return _state().tags.resolve(_tag_id(raw), dict(request.headers))


def scan_entity(tag: TagRef, row: ImageScan | None) -> dict[str, Any]:
    """The API form of a tag's scan."""
    findings = list(row.findings or []) if row is not None and row.status == (
        queue.DONE) else []
    return {
        "tag_id": tag.id, "tag": tag.name, "repository": tag.repository,
        "digest": tag.digest,
        "status": row.status if row is not None else queue.NONE,
        "scanner": row.scanner if row is not None else None,
        "database_version": row.db_version if row is not None else None,
        "scanned_at": queue.timestamp(row.finished_at) if row is not None
        and row.status == queue.DONE else None,
        "error": row.error if row is not None else None,
        "os": row.os if row is not None else None,
        "summary": summarize(findings),
        "vulnerabilities": findings,
    }


@bp.get("/tags/<tag_id>/vulnerabilities")
def vulnerabilities(tag_id: str) -> Response:
    """The tag's scan status, counts by severity and each vulnerability."""
    tag = _tag(tag_id)
    body = scan_entity(tag, queue.find(get_session(), tag.digest))
    body["database"] = _state().scanner.database_info()
    return jsonify(body)


@bp.get("/tags/<tag_id>/sbom")
def sbom(tag_id: str) -> Response:
    """The tag's inventory as CycloneDX JSON."""
    tag = _tag(tag_id)
    row = queue.find(get_session(), tag.digest)
    if row is None or row.inventory is None:
        raise SbomUnknown("this image has not been inventoried yet",
                          detail={"status": row.status if row else queue.NONE})
    doc = cyclonedx(inventory_from_dict(row.inventory), repository=tag.repository,
                    digest=tag.digest, timestamp=queue.timestamp(row.finished_at))
    resp = jsonify(doc)
    resp.mimetype = MEDIA_TYPE
    return resp


@bp.post("/vulnerabilities")
def rescan_all() -> tuple[Response, int]:
    """Scan every known image again (admins)."""
    require_admin()
    session = get_session()
    queued = queue.request_all(session)
    session.commit()
    SCAN_REQUESTS.labels(trigger="all").inc()
    return jsonify({"queued": queued}), 202


@bp.post("/vulnerabilities/<tag_id>")
def rescan_one(tag_id: str) -> tuple[Response, int]:
    """Scan one tag's image again (admins)."""
    require_admin()
    tag = _tag(tag_id)
    session = get_session()
    row = queue.request(session, tag.registry, tag.repository, tag.digest, force=True)
    session.commit()
    SCAN_REQUESTS.labels(trigger="tag").inc()
    return jsonify(scan_entity(tag, row)), 202


@internal_bp.get("/scans")
def summaries() -> Response:
    """Status and counts of many digests at once (the web UI's tags tables).

    Internal: the caller already learned from the catalog which digests the
    user may see.
    """
    require_internal()
    digests = request.args.getlist("digest")
    if not digests or len(digests) > MAX_DIGESTS or any(
            len(d) > 100 or ":" not in d for d in digests):
        raise Invalid(f"give 1 to {MAX_DIGESTS} digest parameters",
                      detail={"field": "digest"})
    rows = get_session().scalars(select(ImageScan).where(ImageScan.digest.in_(digests)))
    found = {r.digest: r for r in rows}
    out = {}
    for digest in digests:
        row = found.get(digest)
        done = row is not None and row.status == queue.DONE
        out[digest] = {"status": row.status if row is not None else queue.NONE,
                       "summary": summarize(list(row.findings or [])) if done and row
                       else None,
                       "scanned_at": queue.timestamp(row.finished_at) if done and row
                       else None}
    return jsonify({"scans": out})
