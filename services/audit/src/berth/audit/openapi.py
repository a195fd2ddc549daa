"""The OpenAPI 3 document of the audit service's API (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from berth.audit.api.audit import CAPPED_HEADER, MAX_ALL
from berth.audit.services.queries import COUNT_CAP, SORT_KEYS


def _param(name: str, description: str, schema: dict[str, Any] | None = None,
           where: str = "query", required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required,
            "description": description, "schema": schema or {"type": "string"}}


_ERROR = {"description": "Error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"portusAuth": []},
                                         {"basic": []}]

FILTERS = [
    _param("actor", "Actor user name (exact)", {"type": "string", "maxLength": 255}),
    _param("action", "Action key prefix, e.g. `namespace.` or `repository.push`",
           {"type": "string", "maxLength": 255}),
    _param("namespace", "Namespace name (exact)", {"type": "string", "maxLength": 255}),
    _param("repository", "Full repository name (exact)",
           {"type": "string", "maxLength": 255}),
    _param("target", "Target name (exact)", {"type": "string", "maxLength": 255}),
    _param("target_type", "Target type: user, team, namespace, repository...",
           {"type": "string", "maxLength": 255}),
    _param("since", "Records that occurred at or after this ISO 8601 time",
           {"type": "string", "format": "date-time"}),
    _param("until", "Records that occurred before this ISO 8601 time",
           {"type": "string", "format": "date-time"}),
    _param("q", "Substring of action, actor, target, namespace or repository",
           {"type": "string", "maxLength": 255}),
]
PAGING = [
    _param("page", "Page number (Portus paging)", {"type": "integer", "minimum": 1}),
    _param("per_page", "Records per page (at most 100)",
           {"type": "integer", "minimum": 1}),
    _param("sort_attr", "Sort key", {"type": "string", "enum": list(SORT_KEYS)}),
    _param("sort_order", "Sort direction; newest first when absent",
           {"type": "string", "enum": ["asc", "desc"]}),
    _param("all", f"Skip paging (at most {MAX_ALL} records)",
           {"type": "string", "enum": ["true", "false"]}),
    _param("cursor", "Cursor paging, newest first: the X-Next-Cursor of the previous "
           "page (empty for the first page)", {"type": "string", "pattern": "^[0-9]*$"}),
]


def _header(description: str, kind: str = "integer") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


LIST_HEADERS = {
    "X-Total": _header(f"Matching records (Portus paging); at most {COUNT_CAP:,} are "
                       f"counted, past that it is a lower bound and {CAPPED_HEADER} "
                       "is sent"),
    "X-Total-Pages": _header("Pages of X-Total records"),
    "X-Page": _header("This page"),
    "X-Per-Page": _header("Records per page"),
    CAPPED_HEADER: _header(
        f"`true` when more than {COUNT_CAP:,} records match: X-Total and "
        "X-Total-Pages are then lower bounds (the cap, or the records up to the "
        "end of this page if more); keep paging while pages are full. Absent "
        "otherwise", "string"),
    "X-Next-Cursor": _header("Cursor paging: the cursor of the next page, absent on "
                             "the last one", "string"),
}

_LIST = {
    "summary": "List audit records visible to the caller",
    "description": "Admins see every record; other users see their own actions "
                   "and the records about the namespaces and teams they may see "
                   "(asked of the catalog: 503 when it cannot answer).",
    "parameters": FILTERS + PAGING,
    "security": _SECURITY,
    "responses": {
        "200": {"description": "Records", "headers": LIST_HEADERS,
                "content": {"application/json": {"schema": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Record"}}}}},
        "401": _ERROR, "422": _ERROR, "503": _ERROR},
}
_SHOW = {
    "summary": "One audit record",
    "parameters": [_param("id", "Record id (its sequence number)",
                          {"type": "integer", "minimum": 1, "format": "int64"}, "path",
                          True)],
    "security": _SECURITY,
    "responses": {
        "200": {"description": "The record", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Record"}}}},
        "401": _ERROR, "404": _ERROR, "503": _ERROR},
}

_NULLABLE_STRING = {"type": "string", "nullable": True}
RECORD = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "event_id": {"type": "string"},
        "event_type": {"type": "string"}, "action": {"type": "string"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "actor": {"type": "object", "properties": {
            "id": {"type": "integer", "nullable": True}, "name": {"type": "string"},
            "address": _NULLABLE_STRING}},
        "target": {"type": "object", "properties": {
            "type": _NULLABLE_STRING, "id": _NULLABLE_STRING,
            "name": _NULLABLE_STRING}},
        "namespace": _NULLABLE_STRING, "repository": _NULLABLE_STRING,
        "registry": _NULLABLE_STRING, "details": {"type": "object"},
        "request_id": _NULLABLE_STRING, "correlation_id": _NULLABLE_STRING,
        "producer": {"type": "string"}, "prev_hash": {"type": "string"},
        "hash": {"type": "string"},
    },
    "required": ["id", "event_id", "event_type", "action", "occurred_at",
                 "recorded_at", "actor", "target", "details", "producer",
                 "prev_hash", "hash"],
}
VERIFY = {
    "type": "object",
    "properties": {
        "intact": {"type": "boolean"}, "records": {"type": "integer"},
        "first_id": {"type": "integer", "nullable": True},
        "last_id": {"type": "integer", "nullable": True},
        "anchor": {"type": "object", "nullable": True},
        "broken": {"type": "object", "properties": {
            "id": {"type": "integer", "nullable": True},
            "reason": {"type": "string", "enum": [
                "missing_records", "prev_hash_mismatch", "hash_mismatch",
                "anchor_invalid", "unchained_record"]}}},
    },
    "required": ["intact", "records"],
}
ERROR = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "detail": {"type": "object"}}}},
    },
    "required": ["message", "errors"],
}
_HEALTH = {"type": "object", "additionalProperties": {"type": "object"}}


def document() -> dict[str, Any]:
    """The OpenAPI 3 document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Berth audit", "version": "1",
                 "description": "The append-only, hash-chained audit log."},
        "paths": {
            "/api/v1/audit": {"get": {**_LIST, "operationId": "listAudit"}},
            "/api/v1/audit/events": {"get": {**_LIST,
                                              "operationId": "listAuditEvents"}},
            "/api/v1/audit/{id}": {"get": {**_SHOW, "operationId": "showAudit"}},
            "/api/v1/audit/events/{id}": {"get": {**_SHOW,
                                                   "operationId": "showAuditEvent"}},
            "/api/v1/audit/export": {"get": {
                "summary": "Export matching records, oldest first, streamed",
                "operationId": "exportAudit",
                "parameters": [_param("format", "csv (default) or jsonl",
                                      {"type": "string", "enum": ["csv", "jsonl"]}),
                               *FILTERS],
                "security": _SECURITY,
                "responses": {
                    "200": {"description": "CSV or JSON Lines", "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/x-ndjson": {"schema": {"type": "string"}}}},
                    "401": _ERROR, "422": _ERROR, "503": _ERROR}}},
            "/api/v1/audit/verify": {"get": {
                "summary": "Verify the hash chain (admins)",
                "operationId": "verifyAudit",
                "security": _SECURITY,
                "responses": {
                    "200": {"description": "Verification report", "content": {
                        "application/json": {"schema": {
                            "$ref": "#/components/schemas/Verification"}}}},
                    "401": _ERROR, "403": _ERROR}}},
            "/api/v1/_ping": {"get": {
                "summary": "Liveness", "operationId": "ping",
                "responses": {"200": {"description": "Alive"}}}},
            "/api/v1/health": {"get": {
                "summary": "Dependencies (Portus' shape)", "operationId": "health",
                "responses": {
                    "200": {"description": "Healthy", "content": {
                        "application/json": {"schema": _HEALTH}}},
                    "503": {"description": "Unhealthy", "content": {
                        "application/json": {"schema": _HEALTH}}}}}},
        },
        "components": {
            "schemas": {"Record": RECORD, "Verification": VERIFY, "Error": ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "basic": {"type": "http", "scheme": "basic"},
                "portusAuth": {"type": "apiKey", "in": "header",
                               "name": "Portus-Auth"},
            },
        },
    }
