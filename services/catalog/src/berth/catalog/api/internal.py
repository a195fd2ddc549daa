"""``/internal/v1``: for Berth's own services only (docs/internal-api.md)."""

from __future__ import annotations

from berth.catalog.api.helpers import state
from berth.catalog.metrics import AUTHORIZE_DECISIONS
from berth.catalog.services import authorize as authz
from berth.catalog.services.context import actor_of
from berth.catalog.services.registries import list_registries
from berth.catalog.services.visibility import visible_to_user
from berth.common.auth import Principal, require_internal
from berth.common.db import get_session, read_mostly
from berth.common.errors import BadRequest, Invalid, NotFound
from berth.common.events.base import Event
from berth.common.web import request_data
from flask import Blueprint, Response, jsonify, request

bp = Blueprint("internal", __name__, url_prefix="/internal/v1")

PRINCIPAL_KINDS = ("user", "bot", "service", "anonymous")


def _principal(raw: object) -> Principal:
    if not isinstance(raw, dict):
        raise BadRequest("principal must be an object")
    kind = raw.get("kind") or "user"
    uid = raw.get("id")
    if kind not in PRINCIPAL_KINDS or (uid is not None and (
            not isinstance(uid, int) or isinstance(uid, bool))):
        raise BadRequest("malformed principal")
    if kind in ("user", "bot") and (uid is None or not raw.get("username")):
        raise BadRequest("a user principal needs an id and a username")
    return Principal.from_dict(raw)


@bp.post("/authorize")
def authorize() -> Response:
    """The granted subset of each requested scope, in request order."""
    require_internal()
    data = request_data()
    principal = _principal(data.get("principal"))
    service = data.get("service")
    raw_scopes = data.get("scopes")
    if not isinstance(service, str) or not isinstance(raw_scopes, list):
        raise BadRequest("service (string) and scopes (list) are required")
    scopes = [authz.parse_scope_dict(s) for s in raw_scopes]
    session = get_session()
    outbox = state().runtime.outbox

    def emit(event: Event) -> None:
        outbox.add(session, event, actor=actor_of(principal, request.remote_addr))

    def decide() -> list[dict[str, object]]:
        granted = authz.authorize(session, service, principal, scopes, state().knobs,
                                  emit)
        session.commit()  # the mirror row and personal namespace just ensured
        return granted

    # The hot path of every docker pull: it writes only for a user seen first.
    result = read_mostly(session, decide)
    for requested, granted in zip(scopes, result, strict=True):
        for action in requested.actions:
            AUTHORIZE_DECISIONS.labels(
                action if action in ("pull", "push", "delete", "*") else "other",
                "granted" if action in granted["actions"] else "denied").inc()
    return jsonify({"scopes": result})


@bp.get("/registries")
def registries() -> Response:
    """Every registry, with what the syncer needs to talk to it."""
    require_internal()
    rows = list_registries(get_session())
    return jsonify({"registries": [
        {"id": r.id, "name": r.name, "hostname": r.hostname, "service": r.service,
         "url": r.url, "notification_secret": r.notification_secret}
        for r in rows]})


@bp.get("/visibility")
def visibility() -> Response:
    """The namespaces and teams a user may see (the audit service's filter)."""
    require_internal()
    raw = request.args.get("user_id", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Invalid("user_id must be a positive integer",
                      detail={"field": "user_id"})
    seen = read_mostly(get_session(), lambda: visible_to_user(
        get_session(), int(raw), state().knobs))
    if seen is None:
        raise NotFound("user not found", code="USER_UNKNOWN",
                       detail={"user_id": int(raw)})
    return jsonify({
        "user_id": seen.user_id, "admin": seen.admin,
        "namespaces": [{"id": i, "name": n, "registry": r, "global": g}
                       for i, n, r, g in seen.namespaces],
        "teams": [{"id": i, "name": n} for i, n in seen.teams]})
