"""``/internal/v1``: operations other Berth services ask the syncer for."""

from __future__ import annotations

from berth.common.auth import Principal, current_principal
from berth.common.errors import Denied, Invalid, Unauthorized
from berth.common.web import field, request_data
from berth.syncer.names import valid_digest, valid_repository
from berth.syncer.state import syncer
from flask import Blueprint, Response, jsonify

bp = Blueprint("internal", __name__, url_prefix="/internal/v1")


def _require_service() -> Principal:
    principal = current_principal()
    if principal.anonymous:
        raise Unauthorized("internal endpoint: service credentials required")
    if principal.kind != "service":
        raise Denied("internal endpoint")
    return principal


@bp.post("/manifests/delete")
def delete_manifest() -> tuple[Response, int]:
    """DELETE a manifest by digest in the registry (202 once accepted)."""
    _require_service()
    data = request_data()
    registry = field(data, "registry")
    repository = field(data, "repository")
    digest = field(data, "digest", max_length=100)
    if not valid_repository(repository):
        raise Invalid("repository is not a valid name", detail={"field": "repository"})
    if not valid_digest(digest):
        raise Invalid("digest is not a valid digest", detail={"field": "digest"})
    syncer().manifests.delete(registry, repository, digest)
    return jsonify({"registry": registry, "repository": repository,
                    "digest": digest}), 202
