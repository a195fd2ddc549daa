"""``/v2/token``: the registry's token endpoint (distribution's token spec,
GET with Basic or anonymous, and the OAuth2 POST)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from berth.common.auth import ANONYMOUS, INTERNAL_HEADER, SERVICE, Principal
from berth.common.errors import BadRequest, Unauthorized
from berth.common.logging import describe_request, log_enabled
from berth.token import metrics
from berth.token.api.support import basic_credentials, login, principal_of, services
from berth.token.errors import (
    ACCOUNT_MISMATCH,
    INVALID_GRANT,
    SERVICE_REQUIRED,
    UNSUPPORTED_GRANT_TYPE,
    AuthFailed,
)
from berth.token.services.credentials import Account
from berth.token.services.scopes import Scope, parse_scopes
from flask import Blueprint, Response, jsonify, request

bp = Blueprint("registry_token", __name__)


def _service(value: str | None) -> str:
    if not value:
        raise BadRequest("service is required", code=SERVICE_REQUIRED)
    if len(value) > 255:
        raise BadRequest("service is too long", code=SERVICE_REQUIRED)
    return value


def _caller() -> tuple[Principal, Account | None]:
    internal = request.headers.get(INTERNAL_HEADER)
    if internal is not None:
        secret = services().config.internal_secret
        if secret and hmac.compare_digest(internal.encode(), str(secret).encode()):
            return SERVICE, None
        raise Unauthorized("invalid internal credentials")
    creds = basic_credentials()
    if creds is None:
        return ANONYMOUS, None
    result = login(creds[0], creds[1], client="registry")
    return principal_of(result.user, result.method), result.user


def _grant(principal: Principal, service: str, scopes: list[Scope]) -> dict[str, Any]:
    granted: list[Scope] = []
    if scopes:
        granted = services().authorizer.authorize(principal, service, scopes)
    body = services().issuer.registry_token(principal, service, granted)
    if log_enabled(logging.INFO):
        describe_request("token_issued", sub=principal.username, service=service,
                         scopes=[s.to_string() for s in granted], via=principal.via)
    body["scope"] = " ".join(s.to_string() for s in granted)
    return body


def _refresh_token(user: Account, service: str, client_id: str | None) -> str:
    svc = services()
    with svc.runtime.sessions() as session:
        plain = svc.refresh.issue(session, user, service, client_id)
        session.commit()
    return plain


@bp.get("/v2/token")
def get_token() -> Response:
    """A registry token for the caller and the requested scopes."""
    args = request.args
    service = _service(args.get("service"))
    scopes = parse_scopes(args.getlist("scope"))
    principal, user = _caller()
    account = args.get("account")
    # The subject is who authenticated; a different account is a confused or
    # malicious client, refused rather than silently ignored.
    if account is not None and account != principal.username:
        raise Unauthorized("account does not match the credentials",
                           code=ACCOUNT_MISMATCH)
    body = _grant(principal, service, scopes)
    body.pop("scope")
    if args.get("offline_token", "").lower() == "true" and user is not None:
        body["refresh_token"] = _refresh_token(user, service, args.get("client_id"))
    return jsonify(body)


@bp.post("/v2/token")
def post_token() -> Response:
    """OAuth2: ``grant_type=password`` or ``grant_type=refresh_token``."""
    form = request.form
    grant_type = form.get("grant_type", "")
    service = _service(form.get("service"))
    # The OAuth2 form carries one space-separated ``scope``; containers/image
    # (skopeo, podman) repeats the field instead, one resource each.
    scopes = parse_scopes(form.getlist("scope"))
    client_id = form.get("client_id")
    refresh: str | None = None
    if grant_type == "password":
        result = login(form.get("username", ""), form.get("password", ""),
                       client="registry")
        user = result.user
        principal = principal_of(user, result.method)
        if form.get("access_type") == "offline":
            refresh = _refresh_token(user, service, client_id)
    elif grant_type == "refresh_token":
        principal = _redeem(form.get("refresh_token", ""), service)
    else:
        raise BadRequest("grant_type must be password or refresh_token",
                         code=UNSUPPORTED_GRANT_TYPE)
    body = _grant(principal, service, scopes)
    if refresh is not None:
        body["refresh_token"] = refresh
    return jsonify(body)


def _redeem(plain: str, service: str) -> Principal:
    svc = services()
    if not plain:
        raise BadRequest("refresh_token is required", code=INVALID_GRANT)
    with svc.runtime.sessions() as session:
        try:
            _token, user = svc.refresh.redeem(session, plain, service)
        except AuthFailed as exc:
            metrics.LOGINS.labels("failed", exc.reason).inc()
            raise Unauthorized("invalid refresh token", code=INVALID_GRANT) from exc
        return principal_of(user, "refresh_token")
