"""OpenAPI paths of the scanning API (merged into the syncer's document)."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
TAG_ID = {"name": "tag_id", "in": "path", "required": True,
          "description": "the catalog's tag id",
          "schema": {"type": "integer", "minimum": 0}}
SEVERITIES = ["Critical", "High", "Medium", "Low", "Negligible", "Unknown"]
SUMMARY = {"type": "object",
           "properties": {k: {"type": "integer"} for k in [*SEVERITIES, "total"]}}
VULNERABILITY = {
    "type": "object",
    "required": ["id", "package", "version", "severity", "link"],
    "properties": {
        "id": {"type": "string"}, "package": {"type": "string"},
        "version": {"type": "string"},
        "fixed_version": {"type": ["string", "null"]},
        "severity": {"type": "string", "enum": SEVERITIES},
        "link": {"type": "string"}, "summary": {"type": "string"},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "ecosystem": {"type": "string"},
    },
}
SCAN = {
    "type": "object",
    "required": ["tag_id", "digest", "status", "summary", "vulnerabilities"],
    "properties": {
        "tag_id": {"type": "integer"}, "tag": {"type": "string"},
        "repository": {"type": "string"}, "digest": {"type": "string"},
        "status": {"type": "string", "enum": ["none", "working", "done", "failed"]},
        "scanner": {"type": ["string", "null"]},
        "database_version": {"type": ["string", "null"]},
        "scanned_at": {"type": ["string", "null"], "format": "date-time"},
        "error": {"type": ["string", "null"]}, "os": {"type": ["string", "null"]},
        "summary": SUMMARY,
        "vulnerabilities": {"type": "array", "items": VULNERABILITY},
        "database": {"type": "object", "properties": {
            "version": {"type": ["string", "null"]}, "documents": {"type": "integer"},
            "updated_at": {"type": ["string", "null"]},
            "age_seconds": {"type": ["integer", "null"]}}},
    },
}
READERS: list[dict[str, list[str]]] = [{}, {"bearer": []}, {"portusAuth": []}]
ADMINS: list[dict[str, list[str]]] = [{"bearer": []}, {"portusAuth": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": ERROR}}}


def _json(schema: dict[str, Any], description: str,
          media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


def paths() -> dict[str, Any]:
    """The scanning routes."""
    return {
        "/api/v1/tags/{tag_id}/vulnerabilities": {"get": {
            "summary": "Scan status and known vulnerabilities of a tag's image",
            "parameters": [TAG_ID], "security": READERS,
            "responses": {"200": _json(SCAN, "The scan"),
                          "401": _error("Bad credentials"),
                          "404": _error("No such tag, or not visible to the caller"),
                          "422": _error("Malformed tag id"),
                          "503": _error("The catalog is unreachable")}}},
        "/api/v1/tags/{tag_id}/sbom": {"get": {
            "summary": "The tag's image inventory as a CycloneDX 1.5 SBOM",
            "parameters": [TAG_ID], "security": READERS,
            "responses": {"200": _json({"type": "object"}, "CycloneDX JSON",
                                       "application/vnd.cyclonedx+json"),
                          "401": _error("Bad credentials"),
                          "404": _error("No such tag, or not inventoried yet"),
                          "422": _error("Malformed tag id"),
                          "503": _error("The catalog is unreachable")}}},
        "/internal/v1/scans": {"get": {
            "summary": "Scan status and severity counts of many digests",
            "security": [{"internal": []}],
            "parameters": [{"name": "digest", "in": "query", "required": True,
                            "style": "form", "explode": True,
                            "schema": {"type": "array", "minItems": 1, "maxItems": 200,
                                       "items": {"type": "string", "maxLength": 100}}}],
            "responses": {"200": _json({"type": "object", "properties": {
                              "scans": {"type": "object", "additionalProperties": {
                                  "type": "object", "properties": {
                                      "status": {"type": "string"},
                                      "summary": {"type": ["object", "null"]},
                                      "scanned_at": {"type": ["string", "null"]}}}}}},
                              "Per digest"),
                          "401": _error("Not a Berth service"),
                          "422": _error("No, too many or malformed digests")}}},
        "/api/v1/vulnerabilities": {"post": {
            "summary": "Scan every known image again (admins)", "security": ADMINS,
            "responses": {"202": _json({"type": "object", "properties": {
                              "queued": {"type": "integer"}}}, "Queued"),
                          "401": _error("Not authenticated"),
                          "403": _error("Not an admin")}}},
        "/api/v1/vulnerabilities/{tag_id}": {"post": {
            "summary": "Scan one tag's image again (admins)",
            "parameters": [TAG_ID], "security": ADMINS,
            "responses": {"202": _json(SCAN, "Queued"),
                          "401": _error("Not authenticated"),
                          "403": _error("Not an admin"),
                          "404": _error("No such tag"),
                          "422": _error("Malformed tag id"),
                          "503": _error("The catalog is unreachable")}}},
    }
