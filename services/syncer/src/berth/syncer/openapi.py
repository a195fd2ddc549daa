"""The OpenAPI 3 document of the syncer's HTTP API (kept by hand, truthful)."""

from __future__ import annotations

from typing import Any

from berth.syncer.scanning.openapi import paths as scanning_paths

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": ERROR}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema}}}


RUN = {
    "type": "object",
    "required": ["id", "status", "strategy", "triggered_by", "started_at"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string",
                   "enum": ["running", "succeeded", "partial", "failed", "abandoned"]},
        "strategy": {"type": "string", "enum": ["update", "update-delete"]},
        "triggered_by": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "duration": {"type": ["number", "null"]},
        "repositories": {"type": "integer"}, "tags": {"type": "integer"},
        "added": {"type": "integer"}, "removed": {"type": "integer"},
        "changed": {"type": "integer"}, "errors": {"type": "integer"},
        "error_details": {"type": "array", "items": {"type": "object"}},
    },
}

NOTIFICATION_EVENT = {
    "type": "object",
    "required": ["id", "action", "target"],
    "properties": {
        "id": {"type": "string", "maxLength": 128},
        "timestamp": {"type": "string"},
        "action": {"type": "string", "maxLength": 32},
        "target": {"type": "object", "required": ["repository"], "properties": {
            "mediaType": {"type": "string"}, "size": {"type": "integer", "minimum": 0},
            "length": {"type": "integer", "minimum": 0},
            "digest": {"type": "string"}, "repository": {"type": "string"},
            "url": {"type": "string"}, "tag": {"type": "string"}}},
        "request": {"type": "object"},
        "actor": {"type": "object", "properties": {"name": {"type": "string"}}},
        "source": {"type": "object"},
    },
}

LIST_PARAMS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "sort_attr", "in": "query",
     "schema": {"type": "string", "enum": ["started_at", "id"]}},
    {"name": "sort_order", "in": "query",
     "schema": {"type": "string", "enum": ["asc", "desc"]}},
    {"name": "all", "in": "query", "schema": {"type": "boolean"}},
]


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Berth syncer", "version": "1.0.0",
                 "description": "Registry notifications, the reconcile, and "
                                "registry operations."},
        "components": {
            "schemas": {
                "Error": {"type": "object", "required": ["message", "errors"],
                          "properties": {"message": {"type": "string"},
                                         "errors": {"type": "array",
                                                    "items": {"type": "object"}}}},
                "SyncRun": RUN,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "portusAuth": {"type": "apiKey", "in": "header", "name": "Portus-Auth"},
                "internal": {"type": "apiKey", "in": "header",
                             "name": "X-Berth-Internal"},
            },
        },
        "paths": {
            "/v2/webhooks/events": {"post": {
                "summary": "Registry notification endpoint",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {
                    "application/vnd.docker.distribution.events.v2+json": {
                        "schema": {"type": "object", "required": ["events"],
                                   "properties": {"events": {
                                       "type": "array", "maxItems": 1000,
                                       "items": NOTIFICATION_EVENT}}}},
                    "application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "200": _json({"type": "object", "properties": {
                        "stored": {"type": "integer"},
                        "duplicate": {"type": "integer"},
                        "ignored": {"type": "integer"}}}, "Stored"),
                    "400": _error("Malformed envelope; nothing stored"),
                    "401": _error("No or wrong notification secret"),
                    "413": _error("Body too large"),
                }}},
            "/api/v1/sync": {
                "post": {
                    "summary": "Start a reconcile", "security": [{"bearer": []},
                                                                  {"portusAuth": []}],
                    "requestBody": {"required": False, "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "strategy": {"type": "string",
                                         "enum": ["update", "update-delete"]}}}}}},
                    "responses": {
                        "202": _json(RUN, "Started"),
                        "400": _error("Malformed body"),
                        "401": _error("Not authenticated"),
                        "403": _error("Not an admin"),
                        "409": _error("A reconcile is already running"),
                        "422": _error("Invalid strategy"),
                    }},
                "get": {
                    "summary": "Recent reconcile runs", "parameters": LIST_PARAMS,
                    "security": [{"bearer": []}, {"portusAuth": []}],
                    "responses": {
                        "200": _json({"type": "array", "items": RUN}, "Runs"),
                        "401": _error("Not authenticated"),
                        "403": _error("Not an admin"),
                        "422": _error("Invalid list parameters"),
                    }},
            },
            "/api/v1/sync/{run_id}": {"get": {
                "summary": "One reconcile run",
                "parameters": [{"name": "run_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "security": [{"bearer": []}, {"portusAuth": []}],
                "responses": {"200": _json(RUN, "The run"),
                              "401": _error("Not authenticated"),
                              "403": _error("Not an admin"),
                              "404": _error("No such run")}}},
            "/internal/v1/manifests/delete": {"post": {
                "summary": "Delete a manifest in a registry",
                "security": [{"internal": []}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "object",
                               "required": ["registry", "repository", "digest"],
                               "properties": {"registry": {"type": "string"},
                                              "repository": {"type": "string"},
                                              "digest": {"type": "string"}}}}}},
                "responses": {
                    "202": _json({"type": "object"}, "The registry accepted it"),
                    "400": _error("Malformed body"),
                    "401": _error("No service credentials"),
                    "403": _error("Not a Berth service"),
                    "404": _error("Unknown registry or manifest"),
                    "422": _error("Invalid field"),
                    "503": _error("Registry unreachable"),
                }}},
            "/api/v1/_ping": {"get": {"summary": "Liveness", "responses": {
                "200": _json({"type": "object"}, "Alive")}}},
            "/api/v1/health": {"get": {"summary": "Dependencies", "responses": {
                "200": _json({"type": "object"}, "Healthy"),
                "503": _json({"type": "object"}, "Unhealthy")}}},
        },
    }
    doc["paths"].update(scanning_paths())
    return doc
