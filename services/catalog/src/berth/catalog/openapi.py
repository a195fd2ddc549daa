"""The catalog's OpenAPI 3 document, served at ``/openapi.json`` and
``/api/v1/catalog/openapi.json``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

blueprint = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}
LIST_PARAMS = [
    {"name": n, "in": "query", "required": False, "schema": s}
    for n, s in (("page", {"type": "integer", "minimum": 1}),
                 ("per_page", {"type": "integer", "minimum": 1}),
                 ("sort_attr", {"type": "string"}),
                 ("sort_order", {"type": "string", "enum": ["asc", "desc"]}),
                 ("all", {"type": "boolean"}))]
ID = {"type": "integer"}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _query(name: str, required: bool = False, schema: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required,
            "schema": schema or {"type": "string"}}


def _op(summary: str, ok: int = 200, *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, security: bool = True,
        errors: tuple[int, ...] = (401, 403, 404, 409, 422, 503),
        also: tuple[int, ...] = ()) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in (ok, *also):
        responses[str(status)] = {"description": "success"}
        if status != 204:
            responses[str(status)]["content"] = {"application/json": {"schema": {}}}
    for code in (400, *errors):
        responses[str(code)] = {"description": "error",
                                "content": {"application/json": {"schema": ERROR}}}
    op: dict[str, Any] = {"summary": summary, "responses": responses,
                          "parameters": params or []}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": body}}}
    if not security:
        op["security"] = []
    return op


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


S = {"type": "string"}
B = {"type": "boolean"}
TEAM = _obj(name=S, description=S, owner_id=ID)
NS = _obj(name=S, team=S, description=S,
          visibility={"type": "string", "enum": ["private", "protected", "public"]})
REG = _obj(name=S, hostname=S, service=S, url=S, use_ssl=B, external_hostname=S)
MEMBER = _obj(user=S, role={"type": "string", "enum": ["viewer", "contributor",
                                                       "owner"]})
WEBHOOK = _obj(
    name=S, url={"type": "string", "maxLength": 2048},
    request_method={"type": "string", "enum": ["GET", "POST"]},
    content_type={"type": "string",
                  "enum": ["application/json", "application/x-www-form-urlencoded"]},
    username=S, password=S, enabled=B,
    events={"type": "array", "items": {"type": "string",
                                       "enum": ["push", "delete", "pull"]}})
WH = "/api/v1/namespaces/{id}/webhooks"
WH_IDS = [_path("id"), _path("webhook_id")]
WEBHOOK_PATHS: dict[str, dict[str, Any]] = {
    WH: {"parameters": [_path("id")],
         "get": _op("Webhooks of a namespace", params=LIST_PARAMS),
         "post": _op("Add a webhook (the answer holds its signing secret, once)",
                     201, body=_obj(webhook=WEBHOOK))},
    WH + "/{webhook_id}": {
        "parameters": WH_IDS, "get": _op("Show a webhook"),
        "put": _op("Change a webhook", body=_obj(webhook=WEBHOOK)),
        "delete": _op("Remove a webhook", 204)},
    WH + "/{webhook_id}/toggle_enabled": {
        "parameters": WH_IDS, "put": _op("Enable or disable a webhook")},
    WH + "/{webhook_id}/headers": {
        "parameters": WH_IDS, "get": _op("Custom headers of a webhook"),
        "post": _op("Add a custom header", 201,
                    body=_obj(webhook_header=_obj(name=S, value=S)))},
    WH + "/{webhook_id}/headers/{header_id}": {
        "parameters": [*WH_IDS, _path("header_id")],
        "delete": _op("Remove a custom header", 204)},
    WH + "/{webhook_id}/deliveries": {
        "parameters": WH_IDS,
        "get": _op("Delivery log of a webhook", params=LIST_PARAMS)},
    WH + "/{webhook_id}/deliveries/{delivery_id}": {
        "parameters": [*WH_IDS, _path("delivery_id")],
        "get": _op("A delivery with its attempts"),
        "put": _op("Send a delivery again", 202)},
    WH + "/{webhook_id}/deliveries/{delivery_id}/resend": {
        "parameters": [*WH_IDS, _path("delivery_id")],
        "post": _op("Send a delivery again", 202)},
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/version": {"get": _op("API versions", security=False, errors=())},
    "/api/v1/teams": {"get": _op("List teams", params=LIST_PARAMS),
                      "post": _op("Create a team", 201, body=_obj(team=TEAM))},
    "/api/v1/teams/{id}": {
        "parameters": [_path("id")],
        "get": _op("Show a team"), "put": _op("Update a team", body=_obj(team=TEAM)),
        "delete": _op("Delete a team", 204, params=[
            _query("new_team"), _query("delete_namespaces", schema=B)])},
    "/api/v1/teams/{id}/namespaces": {"parameters": [_path("id")],
                                      "get": _op("Namespaces of a team",
                                                 params=LIST_PARAMS)},
    "/api/v1/teams/{id}/members": {
        "parameters": [_path("id")], "get": _op("Team members"),
        "post": _op("Add a member", 201, body=MEMBER)},
    "/api/v1/teams/{id}/members/{member_id}": {
        "parameters": [_path("id"), _path("member_id")],
        "put": _op("Change a member's role", body=MEMBER),
        "delete": _op("Remove a member", 204)},
    "/api/v1/namespaces": {"get": _op("List namespaces", params=LIST_PARAMS),
                           "post": _op("Create a namespace", 201,
                                       body=_obj(namespace=NS))},
    "/api/v1/namespaces/validate": {"get": _op("Validate a namespace name",
                                               params=[_query("name", True)])},
    "/api/v1/namespaces/{id}": {
        "parameters": [_path("id")], "get": _op("Show a namespace"),
        "put": _op("Update a namespace", body=_obj(namespace=NS)),
        "delete": _op("Delete a namespace and its images", 204)},
    "/api/v1/namespaces/{id}/repositories": {
        "parameters": [_path("id")],
        "get": _op("Repositories of a namespace", params=LIST_PARAMS)},
    "/api/v1/repositories": {"get": _op("List repositories", params=LIST_PARAMS)},
    "/api/v1/repositories/{id}": {
        "parameters": [_path("id")], "get": _op("Show a repository"),
        "put": _op("Update a repository's description",
                   body=_obj(repository=_obj(description=S))),
        "delete": _op("Delete a repository (and its manifests)", 204,
                      params=[_query("dry_run", schema=B)], also=(200,))},
    "/api/v1/repositories/{id}/tags": {"parameters": [_path("id")],
                                       "get": _op("Tags", params=LIST_PARAMS)},
    "/api/v1/repositories/{id}/tags/{tag_id}": {
        "parameters": [_path("id"), _path("tag_id")], "get": _op("Show a tag")},
    "/api/v1/repositories/{id}/tags/grouped": {"parameters": [_path("id")],
                                               "get": _op("Tags grouped by digest")},
    "/api/v1/repositories/{id}/stars": {
        "parameters": [_path("id")], "post": _op("Star", 201, also=(200,)),
        "delete": _op("Unstar", 204)},
    "/api/v1/repositories/{id}/toggle_star": {"parameters": [_path("id")],
                                              "post": _op("Toggle star")},
    "/api/v1/repositories/{id}/comments": {
        "parameters": [_path("id")], "get": _op("Comments"),
        "post": _op("Comment", 201, body=_obj(comment=_obj(body=S)))},
    "/api/v1/repositories/{id}/comments/{comment_id}": {
        "parameters": [_path("id"), _path("comment_id")],
        "delete": _op("Delete a comment", 204)},
    "/api/v1/stars": {"get": _op("My starred repositories", params=LIST_PARAMS)},
    "/api/v1/tags": {"get": _op("Every tag (admins)", params=LIST_PARAMS)},
    "/api/v1/tags/{id}": {
        "parameters": [_path("id")], "get": _op("Show a tag"),
        "delete": _op("Delete a tag's manifest (and every tag sharing it)", 204,
                      params=[_query("dry_run", schema=B)], also=(200,))},
    "/api/v1/registries": {"get": _op("List registries"),
                           "post": _op("Add a registry", 201,
                                       body=_obj(registry=REG))},
    "/api/v1/registries/{id}": {"parameters": [_path("id")],
                                "put": _op("Change a registry",
                                           body=_obj(registry=REG))},
    "/api/v1/registries/validate": {"get": _op("Validate registry fields", params=[
        _query("name"), _query("hostname"), _query("external_hostname")])},
    "/api/v1/search": {"get": _op("Search", params=[_query("q", True),
                                                    *LIST_PARAMS[:2]])},
    "/api/v1/authorize/explain": {"get": _op("Explain an authorization decision",
                                             params=[_query("scope", True),
                                                     _query("user"),
                                                     _query("service")])},
    **WEBHOOK_PATHS,
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Berth catalog", "version": "1",
             "description": "Portus API v1 compatible catalog and extensions."},
    "paths": PATHS,
    "security": [{"bearer": []}, {"portusAuth": []}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "portusAuth": {"type": "apiKey", "in": "header", "name": "Portus-Auth"}},
        "schemas": {"Error": {"type": "object", "required": ["message", "errors"],
                              "properties": {"message": S, "errors": {
                                  "type": "array", "items": _obj(
                                      code=S, message=S, detail={"type": "object"})}}}},
    },
}


@blueprint.get("/openapi.json")
@blueprint.get("/api/v1/catalog/openapi.json")
def document() -> Response:
    """The OpenAPI document."""
    return jsonify(DOCUMENT)
