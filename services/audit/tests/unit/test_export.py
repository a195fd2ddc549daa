"""Exports: valid CSV and JSON Lines, oldest first, filtered, only what one may see."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from berth.audit.api.serialize import CSV_COLUMNS
from berth.audit.services import queries
from berth.audit.services.recorder import append

ALICE = {"id": 2, "name": "alice", "address": "10.0.0.2"}
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def seeded(record: Callable[..., Any]) -> list[Any]:
    return [
        record("catalog.team.created", {"entity_id": 1, "name": "devs, \"core\""},
               actor=ALICE),
        record("catalog.team.member_added",
               {"entity_id": 1, "name": "=HYPERLINK(\"x\")",
                "details": {"user": "bob", "role": "viewer"}}, actor=ALICE),
        record("identity.login.failed", {"username": "mallory",
                                         "reason": "bad_credentials"}),
    ]


def _csv(resp: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def test_csv_export_has_every_record_oldest_first(
        client: FlaskClient, auth: Auth, seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit/export?format=csv",
                      headers=auth("root", admin=True))
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    first_line = resp.get_data(as_text=True).splitlines()[0]
    assert first_line.split(",") == list(CSV_COLUMNS)
    rows = _csv(resp)
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["action"] == "team.create"
    assert rows[0]["target_name"] == 'devs, "core"'      # quoting round-trips
    assert rows[0]["actor_name"] == "alice" and rows[0]["actor_id"] == "2"
    assert json.loads(rows[1]["details"]) == {"user": "bob", "role": "viewer"}
    assert rows[2]["action"] == "login.failed" and rows[2]["actor_name"] == "mallory"
    assert rows[2]["hash"] == seeded[2].hash


def test_csv_defuses_formula_cells(client: FlaskClient, auth: Auth,
                                   seeded: list[Any]) -> None:
    rows = _csv(client.get("/api/v1/audit/export", headers=auth("root", admin=True)))
    assert rows[1]["target_name"] == "'=HYPERLINK(\"x\")"


def test_jsonl_export_is_one_record_per_line(client: FlaskClient, auth: Auth,
                                             seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit/export?format=jsonl",
                      headers=auth("root", admin=True))
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-ndjson"
    lines = resp.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [1, 2, 3]
    assert records[1]["target"]["name"] == '=HYPERLINK("x")'   # exact, unlike CSV
    assert records[2]["prev_hash"] == records[1]["hash"]


def test_export_applies_filters_and_visibility(client: FlaskClient, auth: Auth,
                                               seeded: list[Any]) -> None:
    mine = _csv(client.get("/api/v1/audit/export", headers=auth("alice", uid=2)))
    assert [r["id"] for r in mine] == ["1", "2"]
    filtered = _csv(client.get("/api/v1/audit/export?action=team.add",
                               headers=auth("root", admin=True)))
    assert [r["id"] for r in filtered] == ["2"]
    nobody = client.get("/api/v1/audit/export?format=jsonl",
                        headers=auth("nobody", uid=50))
    assert nobody.status_code == 200 and nobody.get_data(as_text=True) == ""


def test_export_streams_past_one_batch(client: FlaskClient, auth: Auth,
                                       sessions: Any, make_envelope: Callable[..., Any],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "STREAM_BATCH", 5)
    with sessions() as session:
        for i in range(1, 13):
            append(session, make_envelope("catalog.team.created",
                                          {"entity_id": i, "name": f"t{i}"}))
        session.commit()
    resp = client.get("/api/v1/audit/export?format=jsonl",
                      headers=auth("root", admin=True))
    assert resp.is_streamed
    ids = [json.loads(line)["id"] for line in resp.get_data(as_text=True).splitlines()]
    assert ids == list(range(1, 13))


@pytest.mark.parametrize("query", ["format=xml", "since=soon", "format="])
def test_malformed_export_parameters_get_422(client: FlaskClient, auth: Auth,
                                             query: str) -> None:
    resp = client.get(f"/api/v1/audit/export?{query}",
                      headers=auth("root", admin=True))
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["code"] == "INVALID_FILTER"
