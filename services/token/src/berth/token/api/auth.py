"""API JWTs for the web UI and API clients (``POST /api/v1/auth/token``) and
the JWKS other services verify them with."""

from __future__ import annotations

from berth.common.auth import API_AUDIENCE
from berth.common.errors import BadRequest, Unauthorized
from berth.common.web import request_data
from berth.token import metrics
from berth.token.api.support import basic_credentials, login, principal_of, services
from berth.token.errors import INVALID_GRANT, UNSUPPORTED_GRANT_TYPE, AuthFailed
from berth.token.services.credentials import Account
from flask import Blueprint, Response, jsonify

bp = Blueprint("auth", __name__)
CLIENTS = frozenset({"api", "webui"})


def _pair(user: Account, via: str, client_id: str | None) -> dict[str, object]:
    svc = services()
    body = svc.issuer.api_token(principal_of(user, via))
    with svc.runtime.sessions() as session:
        body["refresh_token"] = svc.refresh.issue(session, user, API_AUDIENCE, client_id)
        session.commit()
    return body


@bp.post("/api/v1/auth/token")
def api_token() -> Response:
    """Basic credentials (or ``grant_type=password``) -> API JWT + refresh token;
    ``grant_type=refresh_token`` -> a new pair (the old refresh token is spent)."""
    data = request_data()
    grant_type = data.get("grant_type")
    client = data.get("client")
    client = client if isinstance(client, str) and client in CLIENTS else "api"
    if grant_type == "refresh_token":
        return jsonify(_refresh(str(data.get("refresh_token") or "")))
    if grant_type == "password":
        username, secret = str(data.get("username") or ""), str(data.get("password") or "")
    elif grant_type is None:
        creds = basic_credentials()
        if creds is None:
            raise Unauthorized("credentials required",
                               headers={"WWW-Authenticate": 'Basic realm="berth"'})
        username, secret = creds
    else:
        raise BadRequest("grant_type must be password or refresh_token",
                         code=UNSUPPORTED_GRANT_TYPE)
    result = login(username, secret, client=str(client))
    return jsonify(_pair(result.user, result.method, str(client)))


def _refresh(plain: str) -> dict[str, object]:
    svc = services()
    if not plain:
        raise BadRequest("refresh_token is required", code=INVALID_GRANT)
    with svc.runtime.sessions() as session:
        try:
            token, user = svc.refresh.redeem(session, plain, API_AUDIENCE)
        except AuthFailed as exc:
            metrics.LOGINS.labels("failed", exc.reason).inc()
            raise Unauthorized("invalid refresh token", code=INVALID_GRANT) from exc
        # Rotation: a stolen refresh token works once at most.
        svc.refresh.revoke(token)
        body = svc.issuer.api_token(principal_of(user, "refresh_token"))
        body["refresh_token"] = svc.refresh.issue(session, user, API_AUDIENCE,
                                                  token.client_id)
        session.commit()
    return body


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """Public keys of every configured signing key."""
    resp = jsonify(services().signer.jwks())
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
