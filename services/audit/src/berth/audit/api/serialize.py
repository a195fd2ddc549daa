"""Records as the API shows them (JSON objects, CSV rows)."""

from __future__ import annotations

import json
from typing import Any

from berth.audit.chain import timestamp
from berth.audit.models import AuditRecord

CSV_COLUMNS = (
    "id", "occurred_at", "recorded_at", "action", "event_type", "actor_id",
    "actor_name", "actor_address", "target_type", "target_id", "target_name",
    "namespace", "repository", "registry", "details", "request_id",
    "correlation_id", "producer", "event_id", "prev_hash", "hash",
)
# Spreadsheet programs run cells starting with these as formulas (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record_dict(record: AuditRecord) -> dict[str, Any]:
    """The JSON form of one record."""
    return {
        "id": record.id,
        "event_id": record.event_id,
        "event_type": record.event_type,
        "action": record.action,
        "occurred_at": timestamp(record.occurred_at),
        "recorded_at": timestamp(record.recorded_at),
        "actor": {"id": record.actor_id, "name": record.actor_name,
                  "address": record.actor_address},
        "target": {"type": record.target_type, "id": record.target_id,
                   "name": record.target_name},
        "namespace": record.namespace,
        "repository": record.repository,
        "registry": record.registry_name,
        "details": record.details,
        "request_id": record.request_id,
        "correlation_id": record.correlation_id,
        "producer": record.producer,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    else:
        text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_row(record: AuditRecord, *, hide_address: bool = False) -> list[str]:
    """One CSV row, in :data:`CSV_COLUMNS` order; formula-looking cells defused."""
    values = {
        **{name: getattr(record, name) for name in CSV_COLUMNS if name != "registry"},
        "registry": record.registry_name,
        "occurred_at": timestamp(record.occurred_at),
        "recorded_at": timestamp(record.recorded_at),
    }
    if hide_address:
        values["actor_address"] = None
    return [_cell(values[name]) for name in CSV_COLUMNS]
