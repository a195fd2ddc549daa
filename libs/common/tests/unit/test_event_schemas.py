"""The published event schemas: generated from the contracts, never drifting,
one per event class, and accepting what producers actually build."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from berth.common.events import catalog, identity, registry, sync
from berth.common.events.base import Actor, Envelope, Event
from berth.common.events.schema import (
    all_schemas,
    published_types,
    differences,
    file_name,
    main,
    render,
    strict,
)

FOLDER = Path(__file__).resolve().parents[4] / "docs" / "events" / "schemas"
Validator = jsonschema.Draft202012Validator


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((FOLDER / name).read_text()))


def test_checked_in_schemas_match_the_contracts() -> None:
    problems = list(differences(FOLDER))
    assert problems == [], (
        "regenerate: python -m berth.common.events.schema --write docs/events/schemas")


def test_every_event_class_has_a_schema_and_every_schema_a_class() -> None:
    classes = {file_name(t, cls.VERSION) for t, cls in published_types().items()}
    files = {p.name for p in FOLDER.glob("*.json")}
    assert classes == files
    modules = (identity, catalog, registry, sync)
    declared = {obj.TYPE for m in modules for obj in vars(m).values()
                if isinstance(obj, type) and issubclass(obj, Event) and obj.TYPE}
    assert declared == set(published_types())


def test_schemas_are_valid_draft_2020_12() -> None:
    for name in all_schemas():
        Validator.check_schema(_load(name))


def _sample(cls: type[Event]) -> Event:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.default is dataclasses.MISSING and \
                field.default_factory is dataclasses.MISSING:
            values[field.name] = "x" if "str" in str(field.type) else 1
    return cls(**values)


@pytest.mark.parametrize("event_type", sorted(published_types()))
def test_an_envelope_built_by_a_producer_validates_strictly(event_type: str) -> None:
    cls = published_types()[event_type]
    env = Envelope.wrap(_sample(cls), producer=_producer(event_type),
                        actor=Actor(id=7, name="alice", address="10.0.0.1"))
    body = json.loads(env.to_json())
    Validator(strict(_load(file_name(event_type, cls.VERSION)))).validate(body)


def _producer(event_type: str) -> str:
    return {"identity": "token", "catalog": "catalog", "registry": "syncer",
            "sync": "syncer"}[event_type.split(".")[0]]


def _push(**data: Any) -> dict[str, Any]:
    env = Envelope.wrap(registry.ManifestPushed(registry="r", repository="a/b",
                                                digest="sha256:1"), producer="syncer")
    body = json.loads(env.to_json())
    body["data"].update(data)
    return dict(body)


def test_a_field_of_the_wrong_type_is_refused() -> None:
    schema = _load(file_name("registry.manifest.pushed", 1))
    with pytest.raises(jsonschema.ValidationError):
        Validator(schema).validate(_push(size="12"))
    with pytest.raises(jsonschema.ValidationError):
        Validator(schema).validate(_push(digest=None))


def test_an_added_optional_field_stays_compatible_but_not_strictly() -> None:
    schema = _load(file_name("registry.manifest.pushed", 1))
    Validator(schema).validate(_push(new_field="later"))
    with pytest.raises(jsonschema.ValidationError):
        Validator(strict(schema)).validate(_push(new_field="later"))


def test_a_missing_required_field_or_wrong_type_const_is_refused() -> None:
    schema = _load(file_name("registry.manifest.pushed", 1))
    body = _push()
    del body["data"]["repository"]
    with pytest.raises(jsonschema.ValidationError):
        Validator(schema).validate(body)
    other = _push()
    other["type"] = "registry.manifest.pulled"
    with pytest.raises(jsonschema.ValidationError):
        Validator(schema).validate(other)


def test_check_reports_drift_and_orphans(tmp_path: Path) -> None:
    assert main(["--write", str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    name = file_name("identity.user.created", 1)
    (tmp_path / name).write_text(render({"changed": True}))
    (tmp_path / "identity.nothing.v1.json").write_text("{}")
    (tmp_path / file_name("sync.run.finished", 2)).write_text("{}")
    assert sorted(differences(tmp_path)) == [
        f"differs: {name}", "no event class: identity.nothing.v1.json",
        "no event class: sync.run.finished.v2.json"]
    assert main(["--check", str(tmp_path)]) == 1


def test_an_older_version_file_is_kept_frozen(tmp_path: Path) -> None:
    main(["--write", str(tmp_path)])
    assert list(differences(tmp_path)) == []
    cls = published_types()["sync.run.finished"]
    assert cls.VERSION == 1  # the day it becomes 2, v1's file stays as it was
    (tmp_path / "sync.run.finished.v0.json").write_text("{}")
    assert list(differences(tmp_path)) == []


def test_the_event_table_of_docs_events_names_every_type() -> None:
    doc = (FOLDER.parent.parent / "events.md").read_text()
    rows = {line.split("|")[1].strip().strip("`") for line in doc.splitlines()
            if line.startswith("| `") and line.count("|") >= 5}
    assert set(published_types()) <= rows
