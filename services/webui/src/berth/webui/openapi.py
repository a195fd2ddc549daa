"""The OpenAPI document of the web UI's machine-readable endpoints. The pages
themselves are HTML for browsers and are not part of any API contract."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema}}}


def document() -> dict[str, Any]:
    """OpenAPI 3 description of /api/v1/_ping and /api/v1/health."""
    status = {"type": "object", "properties": {
        "success": {"type": "boolean"}, "msg": {"type": "string"}}}
    health = {"type": "object", "additionalProperties": status}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Berth web UI", "version": "1",
                 "description": "Health endpoints of the web UI; everything else "
                                "it serves is HTML for browsers."},
        "paths": {
            "/api/v1/_ping": {"get": {
                "summary": "Liveness", "operationId": "ping",
                "responses": {"200": _json({"type": "object", "properties": {
                    "status": {"type": "string"}}, "required": ["status"]}, "alive")}}},
            "/api/v1/health": {"get": {
                "summary": "Reachability of the services the web UI calls",
                "operationId": "health",
                "responses": {"200": _json(health, "every dependency answers"),
                              "503": _json(health, "a dependency is down")}}},
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["message", "errors"],
            "properties": {"message": {"type": "string"}, "errors": {
                "type": "array", "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "detail": {"type": "object"}}}}}}}},
    }
