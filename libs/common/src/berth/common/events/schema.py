"""JSON Schemas (draft 2020-12) of every event, generated from the contracts.

One schema per event type and version describes the whole envelope as it
travels on the bus, with the type's own ``data``. Objects allow properties
they do not list, so a producer adding an optional field (same version) does
not break a consumer that validates. Checked-in copies live in
``docs/events/schemas``; a unit test fails when they drift from the code.

    python -m berth.common.events.schema --write docs/events/schemas
    python -m berth.common.events.schema --check docs/events/schemas
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from berth.common.events import catalog, identity, registry, sync  # noqa: F401
from berth.common.events.base import Event, event_types

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:berth:event:"

#: first segment of an event type -> the service that publishes it.
PRODUCERS = {"identity": "token", "catalog": "catalog", "registry": "syncer",
             "sync": "syncer"}

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"}, int: {"type": "integer"}, bool: {"type": "boolean"},
    float: {"type": "number"}, type(None): {"type": "null"},
}


def file_name(event_type: str, version: int) -> str:
    """The schema file of one event type and version."""
    return f"{event_type}.v{version}.json"


def _type_schema(hint: Any) -> dict[str, Any]:
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    if hint is Any:
        return {}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(a) for a in args]
        simple = [o["type"] for o in options if set(o) == {"type"}
                  and isinstance(o["type"], str)]
        if len(simple) == len(options):
            return {"type": list(dict.fromkeys(simple))}
        merged: list[dict[str, Any]] = []
        for option in options:
            if option not in merged:
                merged.append(option)
        return merged[0] if len(merged) == 1 else {"anyOf": merged}
    if origin in (list, tuple):
        # tuple[X, ...] and list[X] both travel as a JSON array of X.
        item = args[0] if args else Any
        return {"type": "array", "items": _type_schema(item)}
    if origin is dict or hint is dict:
        return {"type": "object"}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _default(field: dataclasses.Field[Any]) -> tuple[bool, Any]:
    if field.default is not dataclasses.MISSING:
        value = field.default
        return True, list(value) if isinstance(value, tuple) else value
    if field.default_factory is not dataclasses.MISSING:
        return True, field.default_factory()
    return False, None


def data_schema(cls: type[Event]) -> dict[str, Any]:
    """The schema of the ``data`` part of ``cls``'s events."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in dataclasses.fields(cls):
        prop = _type_schema(hints[field.name])
        has_default, value = _default(field)
        if has_default:
            prop["default"] = value
        else:
            required.append(field.name)
        properties[field.name] = prop
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": True}


def _doc(cls: type[Event]) -> str:
    return " ".join((cls.__doc__ or "").split())


def event_schema(cls: type[Event]) -> dict[str, Any]:
    """The schema of a whole envelope carrying an event of ``cls``."""
    producer = PRODUCERS.get(cls.TYPE.split(".", 1)[0])
    return {
        "$schema": DIALECT,
        "$id": f"{ID_PREFIX}{cls.TYPE}:v{cls.VERSION}",
        "title": f"{cls.TYPE} v{cls.VERSION}",
        "description": _doc(cls),
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 64,
                   "description": "unique event id; consumers skip ids they saw"},
            "type": {"const": cls.TYPE, "description": "also the routing key"},
            "version": {"const": cls.VERSION},
            "occurred_at": {"type": "string", "format": "date-time",
                            "description": "UTC, ISO 8601 with Z"},
            "producer": ({"const": producer} if producer else {"type": "string"}),
            "correlation_id": {"type": ["string", "null"],
                               "description": "groups the events of one cause, "
                                              "e.g. sync-run-<id>; else null"},
            "actor": {
                "type": "object",
                "description": "who caused it; name 'system' for automatic work",
                "properties": {
                    "id": {"type": ["integer", "null"]},
                    "name": {"type": "string"},
                    "address": {"type": ["string", "null"],
                                "description": "client address of the request"},
                },
                "required": ["id", "name", "address"],
                "additionalProperties": True,
            },
            "data": data_schema(cls),
        },
        "required": ["id", "type", "version", "occurred_at", "producer",
                     "correlation_id", "actor", "data"],
        "additionalProperties": True,
    }


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy refusing properties the contract does not list (for tests that
    check producers send nothing undocumented)."""
    closed = copy.deepcopy(schema)
    closed["additionalProperties"] = False
    closed["properties"]["actor"]["additionalProperties"] = False
    closed["properties"]["data"]["additionalProperties"] = False
    return closed


def published_types() -> dict[str, type[Event]]:
    """Type -> class of every contract Berth publishes (the modules of
    ``berth.common.events``; event classes defined elsewhere, e.g. by tests,
    are not part of the contract)."""
    return {t: cls for t, cls in event_types().items()
            if cls.__module__.startswith("berth.common.events.")}


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every contract Berth publishes."""
    return {file_name(t, cls.VERSION): event_schema(cls)
            for t, cls in sorted(published_types().items())}


def render(schema: dict[str, Any]) -> str:
    """The checked-in text of a schema (stable: sorted keys, two-space indent)."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def differences(folder: Path) -> Iterator[str]:
    """What differs between ``folder`` and the generated schemas. Files of
    older versions of a known type are frozen and left alone."""
    expected = all_schemas()
    for name, schema in expected.items():
        path = folder / name
        if not path.exists():
            yield f"missing: {name}"
        elif path.read_text() != render(schema):
            yield f"differs: {name}"
    known = published_types()
    for path in sorted(folder.glob("*.json")):
        if path.name in expected:
            continue
        event_type, _, version = path.name.removesuffix(".json").rpartition(".v")
        cls = known.get(event_type)
        if cls is None or not version.isdigit() or int(version) >= cls.VERSION:
            yield f"no event class: {path.name}"


def main(argv: list[str] | None = None) -> int:
    """Write or check the schema folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, metavar="DIR")
    group.add_argument("--check", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    if args.write:
        args.write.mkdir(parents=True, exist_ok=True)
        for name, schema in all_schemas().items():
            (args.write / name).write_text(render(schema))
        return 0
    problems = list(differences(args.check))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
