"""Security scanning in the UI: a severity summary per tag in the tags table,
and one page per tag listing its vulnerabilities (the syncer's scanner)."""

from __future__ import annotations

from typing import Any

import structlog
from berth.webui.api_client import ApiError, ServiceDown
from berth.webui.sessions import api, login_required
from berth.webui.views.forms import attempt
from flask import Blueprint, redirect, render_template, url_for
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

bp = Blueprint("scanning", __name__)
log = structlog.get_logger(__name__)
Json = dict[str, Any]
# Worst first: the summary cell shows the levels that have any.
SEVERITIES = ("Critical", "High", "Medium", "Low", "Negligible", "Unknown")


def scan_summaries(tags: list[Json]) -> dict[str, Json]:
    """Scan status and counts per digest of ``tags``; empty when the scanner
    cannot say (the tags table never fails because of it)."""
    digests = sorted({str(t.get("digest")) for t in tags if t.get("digest")})
    try:
        return api().scan_summaries(digests)
    except (ApiError, ServiceDown) as exc:
        log.info("scan_summaries_unavailable", error=str(exc)[:200])
        return {}


@bp.get("/repositories/<int:repo_id>/tags/<int:tag_id>/vulnerabilities")
def show(repo_id: int, tag_id: int) -> str:
    """One tag's vulnerabilities, worst first."""
    client = api()
    repository = client.repository(repo_id)
    tag = next((t for t in client.tags(repo_id) if t.get("id") == tag_id), None)
    if tag is None:
        raise ApiError(404, "tag not found")
    scan = client.vulnerabilities(tag_id)
    return render_template("tag_vulnerabilities.html", repository=repository, tag=tag,
                           scan=scan, severities=SEVERITIES)


@bp.post("/repositories/<int:repo_id>/tags/<int:tag_id>/rescan")
@login_required
def rescan(repo_id: int, tag_id: int) -> Response:
    """Ask for a new scan (admins; others see the API's refusal)."""
    attempt(lambda: api().rescan(tag_id), "A new scan was requested.")
    return redirect(url_for("scanning.show", repo_id=repo_id, tag_id=tag_id))


@bp.get("/repositories/<int:repo_id>/tags/<int:tag_id>/sbom")
def sbom(repo_id: int, tag_id: int) -> Response:
    """The tag's SBOM as a download (fetched with the user's own token)."""
    resp = api().raw("syncer", "GET", f"/api/v1/tags/{tag_id}/sbom")
    name = secure_filename(f"{repo_id}-{tag_id}-sbom.cdx.json")
    return Response(resp.content, mimetype="application/vnd.cyclonedx+json",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
