"""The OpenAPI 3 document of the token service's public API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

blueprint = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}


def _resp(description: str, schema: dict[str, Any] | None = None,
          headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    if headers:
        out["headers"] = headers
    return out


def _errors(*codes: int) -> dict[str, Any]:
    # Any request with credentials may be throttled (429) or meet an
    # unreachable LDAP directory (503).
    codes = tuple(sorted(set(codes) | ({429, 503} if 401 in codes else set())))
    text = {400: "Malformed request", 401: "Not authenticated", 403: "Forbidden",
            404: "Not found", 405: "Disabled", 409: "Conflict", 422: "Invalid",
            429: "Throttled", 503: "A dependency is unavailable"}
    return {str(c): _resp(text[c], ERROR) for c in codes}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema}}}


def _id(name: str = "id", kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


USER_INPUT = {"type": "object", "properties": {"user": {
    "type": "object", "properties": {
        "username": {"type": "string"}, "email": {"type": "string"},
        "password": {"type": "string"}, "current_password": {"type": "string"},
        "display_name": {"type": "string"}, "admin": {"type": "boolean"},
        "enabled": {"type": "boolean"}, "bot": {"type": "boolean"}}}}}
USER = {"$ref": "#/components/schemas/User"}
TOKEN_RESPONSE = {"type": "object", "required": ["token", "expires_in"], "properties": {
    "token": {"type": "string"}, "access_token": {"type": "string"},
    "expires_in": {"type": "integer"}, "issued_at": {"type": "string"},
    "refresh_token": {"type": "string"}, "scope": {"type": "string"}}}
PLAIN_TOKEN = {"type": "object", "properties": {
    "id": {"type": "integer"}, "application": {"type": "string"},
    "plain_token": {"type": "string"}}}
LIST_PARAMS = [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (
    ("page", {"type": "integer", "minimum": 1}),
    ("per_page", {"type": "integer", "minimum": 1}),
    ("sort_attr", {"type": "string", "enum": ["id", "username", "email", "created_at",
                                              "updated_at", "admin", "enabled",
                                              "display_name"]}),
    ("sort_order", {"type": "string", "enum": ["asc", "desc"]}),
    ("all", {"type": "boolean"}))]

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Berth token service", "version": "1.0.0",
             "description": "Users, application tokens, registry and API tokens."},
    "components": {
        "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "portusAuth": {"type": "apiKey", "in": "header", "name": "Portus-Auth"}},
        "schemas": {
            "Error": {"type": "object", "required": ["message", "errors"], "properties": {
                "message": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "detail": {"type": "object"}}}}}},
            "User": {"type": "object", "properties": {
                "id": {"type": "integer"}, "username": {"type": "string"},
                "email": {"type": "string", "nullable": True},
                "current_sign_in_at": {"type": "string", "nullable": True},
                "last_sign_in_at": {"type": "string", "nullable": True},
                "created_at": {"type": "string"}, "updated_at": {"type": "string"},
                "admin": {"type": "boolean"}, "enabled": {"type": "boolean"},
                "locked_at": {"type": "string", "nullable": True},
                "namespace_id": {"type": "integer", "nullable": True},
                "display_name": {"type": "string", "nullable": True},
                "bot": {"type": "boolean"}}},
            "ApplicationToken": {"type": "object", "properties": {
                "id": {"type": "integer"}, "application": {"type": "string"},
                "created_at": {"type": "string"},
                "last_used_at": {"type": "string", "nullable": True}}}}},
    "security": [{"basic": []}, {"bearer": []}, {"portusAuth": []}, {}],
    "paths": {
        "/v2/token": {
            "get": {"summary": "Registry token (distribution token spec)",
                    "parameters": [
                        {"name": "service", "in": "query", "required": True,
                         "schema": {"type": "string"}},
                        {"name": "scope", "in": "query", "required": False,
                         "schema": {"type": "array", "items": {"type": "string"}},
                         "explode": True},
                        {"name": "account", "in": "query", "schema": {"type": "string"}},
                        {"name": "offline_token", "in": "query",
                         "schema": {"type": "boolean"}},
                        {"name": "client_id", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": _resp("A token", TOKEN_RESPONSE),
                                  **_errors(400, 401, 429, 503)}},
            "post": {"summary": "Registry token (OAuth2)",
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": {
                             "type": "object", "required": ["grant_type", "service"],
                             "properties": {
                                 "grant_type": {"type": "string",
                                                "enum": ["password", "refresh_token"]},
                                 "service": {"type": "string"},
                                 "client_id": {"type": "string"},
                                 "access_type": {"type": "string"},
                                 "scope": {"type": "string"},
                                 "username": {"type": "string"},
                                 "password": {"type": "string"},
                                 "refresh_token": {"type": "string"}}}}}},
                     "responses": {"200": _resp("A token", TOKEN_RESPONSE),
                                   **_errors(400, 401, 429, 503)}}},
        "/api/v1/users": {
            "get": {"summary": "List users (admin)", "parameters": LIST_PARAMS,
                    "responses": {"200": _resp("Users", {"type": "array", "items": USER}),
                                  **_errors(401, 403, 422)}},
            "post": {"summary": "Create a user (admin) or sign up",
                     "requestBody": _body(USER_INPUT),
                     "responses": {"201": _resp("Created", USER),
                                   **_errors(400, 401, 403, 422)}}},
        "/api/v1/users/bootstrap": {
            "post": {"summary": "Create the first admin", "requestBody": _body(USER_INPUT),
                     "responses": {"201": _resp("Application token", PLAIN_TOKEN),
                                   **_errors(400, 405, 422)}}},
        "/api/v1/users/{id}": {
            "parameters": [_id("id", "string")],
            "get": {"summary": "Show a user by id or e-mail",
                    "responses": {"200": _resp("User", USER), **_errors(401, 403, 404)}},
            "put": {"summary": "Update a user", "requestBody": _body(USER_INPUT),
                    "responses": {"200": _resp("User", USER),
                                  **_errors(400, 401, 403, 404, 409, 422)}},
            "delete": {"summary": "Delete a user (admin)",
                       "responses": {"204": _resp("Deleted"),
                                     **_errors(401, 403, 404, 409, 422)}}},
        "/api/v1/users/{id}/application_tokens": {
            "parameters": [_id()],
            "get": {"summary": "List a user's application tokens",
                    "responses": {"200": _resp("Tokens", {"type": "array", "items": {
                        "$ref": "#/components/schemas/ApplicationToken"}}),
                        **_errors(401, 403, 404)}},
            "post": {"summary": "Create an application token",
                     "requestBody": _body({"type": "object", "properties": {
                         "application": {"type": "string"}}}),
                     "responses": {"201": _resp("Token (shown once)", PLAIN_TOKEN),
                                   **_errors(400, 401, 403, 404)}}},
        "/api/v1/users/application_tokens/{id}": {
            "parameters": [_id()],
            "delete": {"summary": "Revoke an application token",
                       "responses": {"204": _resp("Deleted"), **_errors(401, 404)}}},
        "/api/v1/auth/token": {
            "post": {"summary": "API JWT from Basic credentials or a refresh token",
                     "requestBody": _body({"type": "object", "properties": {
                         "grant_type": {"type": "string",
                                        "enum": ["password", "refresh_token"]},
                         "username": {"type": "string"}, "password": {"type": "string"},
                         "refresh_token": {"type": "string"},
                         "client": {"type": "string"}}}, required=False),
                     "responses": {"200": _resp("Token pair", TOKEN_RESPONSE),
                                   **_errors(400, 401, 429)}}},
        "/.well-known/jwks.json": {
            "get": {"summary": "Signing keys", "security": [],
                    "responses": {"200": _resp("JWKS", {"type": "object"})}}},
        "/api/v1/_ping": {"get": {"summary": "Liveness", "security": [],
                                  "responses": {"200": _resp("ok", {"type": "object"})}}},
        "/api/v1/health": {"get": {"summary": "Health", "security": [], "responses": {
            "200": _resp("healthy", {"type": "object"}),
            "503": _resp("unhealthy", {"type": "object"})}}},
    },
}


@blueprint.get("/openapi.json")
@blueprint.get("/api/v1/token/openapi.json")
def openapi() -> Response:
    """The document."""
    return jsonify(DOCUMENT)
