"""``/api/v1/audit``: authentication, visibility, filters, paging, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from berth.audit.services import queries

ALICE = {"id": 2, "name": "alice", "address": "10.0.0.2"}
BOB = {"id": 3, "name": "bob", "address": "10.0.0.3"}
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def seeded(record: Callable[..., Any]) -> list[Any]:
    """Six records by alice, bob and the registry, one hour apart."""
    rows = [
        ("catalog.namespace.created", {"entity_id": 1, "name": "qa"}, ALICE),
        ("catalog.namespace.visibility_changed",
         {"entity_id": 1, "name": "qa", "details": {"visibility": "public"}}, ALICE),
        ("catalog.team.member_added",
         {"entity_id": 5, "name": "devs", "details": {"user": "alice"}}, BOB),
        ("registry.manifest.pushed",
         {"registry": "r", "repository": "qa/app", "digest": "sha256:1",
          "tag": "v1", "actor": "alice"}, None),
        ("identity.login.failed", {"username": "mallory", "reason": "bad_credentials",
                                   "address": "10.9.9.9"}, None),
        ("catalog.repository.deleted",
         {"entity_id": 9, "name": "app", "namespace": "qa", "repository": "qa/app"},
         BOB),
    ]
    return [record(t, d, actor=a, occurred_at=T0 + timedelta(hours=i))
            for i, (t, d, a) in enumerate(rows)]


def _assert_error(resp: Any, status: int) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body["message"], str) and body["message"]
    assert body["errors"][0]["code"]


# -- authentication and permissions ------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/audit", "/api/v1/audit/events", "/api/v1/audit/1",
    "/api/v1/audit/events/1", "/api/v1/audit/export", "/api/v1/audit/verify"])
def test_anonymous_gets_401(client: FlaskClient, seeded: list[Any],
                            path: str) -> None:
    _assert_error(client.get(path), 401)


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/verify"])
def test_bad_token_gets_401(client: FlaskClient, path: str) -> None:
    resp = client.get(path, headers={"Authorization": "Bearer not-a-jwt"})
    _assert_error(resp, 401)


def test_verify_is_for_admins_only(client: FlaskClient, auth: Auth,
                                   seeded: list[Any]) -> None:
    _assert_error(client.get("/api/v1/audit/verify", headers=auth("bob", uid=3)), 403)


def test_admin_sees_everything(client: FlaskClient, auth: Auth,
                               seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit", headers=auth("root", uid=1, admin=True))
    assert resp.status_code == 200
    assert [r["id"] for r in resp.get_json()] == [6, 5, 4, 3, 2, 1]
    assert resp.headers["X-Total"] == "6"


@pytest.mark.parametrize(("user", "uid", "expected"), [
    ("alice", 2, [4, 2, 1]),     # her catalog actions and her registry push
    ("bob", 3, [6, 3]),
    ("mallory", 77, [5]),        # a failed login is the claimed user's record
    ("nobody", 99, []),
])
def test_users_see_their_own_actions(client: FlaskClient, auth: Auth,
                                     seeded: list[Any], user: str, uid: int,
                                     expected: list[int]) -> None:
    resp = client.get("/api/v1/audit", headers=auth(user, uid=uid))
    assert resp.status_code == 200
    assert [r["id"] for r in resp.get_json()] == expected


def test_record_of_someone_else_looks_missing(client: FlaskClient, auth: Auth,
                                              seeded: list[Any]) -> None:
    hidden = client.get("/api/v1/audit/3", headers=auth("alice", uid=2))
    missing = client.get("/api/v1/audit/999", headers=auth("alice", uid=2))
    _assert_error(hidden, 404)
    _assert_error(missing, 404)
    assert hidden.get_json()["errors"][0]["code"] == \
        missing.get_json()["errors"][0]["code"] == "RECORD_UNKNOWN"


def test_show_record(client: FlaskClient, auth: Auth, seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit/events/2", headers=auth("alice", uid=2))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["action"] == "namespace.change_visibility"
    assert body["actor"] == {"id": 2, "name": "alice", "address": "10.0.0.2"}
    assert body["target"] == {"type": "namespace", "id": "1", "name": "qa"}
    assert body["namespace"] == "qa"
    assert body["details"] == {"visibility": "public"}
    assert body["occurred_at"] == "2026-03-01T13:00:00.000000Z"
    assert body["prev_hash"] == seeded[0].hash and body["hash"] == seeded[1].hash


def test_non_numeric_id_is_404(client: FlaskClient, auth: Auth) -> None:
    _assert_error(client.get("/api/v1/audit/abc", headers=auth("root", admin=True)),
                  404)


# -- filters -------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ("actor=alice", [4, 2, 1]),
    ("action=namespace.", [2, 1]),
    ("action=namespace.create", [1]),
    ("action=repository", [6, 4]),
    ("action=login.failed", [5]),
    ("action=%25", []),                        # LIKE wildcards are literal
    ("namespace=qa", [6, 4, 2, 1]),
    ("repository=qa/app", [6, 4]),
    ("target=devs", [3]),
    ("target_type=user", [5]),
    ("since=2026-03-01T14:00:00Z", [6, 5, 4, 3]),
    ("until=2026-03-01T14:00:00Z", [2, 1]),
    ("since=2026-03-01T13:00:00Z&until=2026-03-01T15:00:00%2B00:00", [3, 2]),
    ("q=mall", [5]),
    ("q=visib", [2]),
    ("actor=alice&action=repository.push", [4]),
])
def test_filters(client: FlaskClient, auth: Auth, seeded: list[Any], query: str,
                 expected: list[int]) -> None:
    resp = client.get(f"/api/v1/audit?{query}", headers=auth("root", admin=True))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [r["id"] for r in resp.get_json()] == expected


def test_filters_never_widen_what_a_user_sees(client: FlaskClient, auth: Auth,
                                              seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit?actor=bob", headers=auth("alice", uid=2))
    assert resp.get_json() == []


@pytest.mark.parametrize("query", [
    "since=yesterday", "until=2026-13-01", "page=0", "page=x", "per_page=-1",
    "sort_attr=hash", "sort_order=up", "cursor=abc", "cursor=0", "q=" + "x" * 300,
    "since=0001-01-01T00:00:00%2B01:00", "until=2026-01-01T00:00:00%2B25:00",
    "page=99999999999999999999"])
def test_malformed_parameters_get_422(client: FlaskClient, auth: Auth,
                                      query: str) -> None:
    resp = client.get(f"/api/v1/audit?{query}", headers=auth("root", admin=True))
    _assert_error(resp, 422)


# -- paging and sorting ----------------------------------------------------------

def test_portus_paging(client: FlaskClient, auth: Auth, seeded: list[Any]) -> None:
    headers = auth("root", admin=True)
    resp = client.get("/api/v1/audit?page=2&per_page=4", headers=headers)
    assert [r["id"] for r in resp.get_json()] == [2, 1]
    assert resp.headers["X-Total-Pages"] == "2" and resp.headers["X-Page"] == "2"
    resp = client.get("/api/v1/audit?sort_order=asc&per_page=2", headers=headers)
    assert [r["id"] for r in resp.get_json()] == [1, 2]
    resp = client.get("/api/v1/audit?all=true&per_page=1", headers=headers)
    assert len(resp.get_json()) == 6


def _statements(engine: Any) -> list[tuple[str, list[Any]]]:
    """Every SQL statement ``engine`` runs from now on, with its parameters."""
    from sqlalchemy import event

    seen: list[tuple[str, list[Any]]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, params: Any,
                 *_rest: Any) -> None:
        values = params.values() if isinstance(params, dict) else params
        seen.append((statement.lower(), list(values)))

    event.listen(engine, "before_cursor_execute", remember)
    return seen


def _counts(statements: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    return [(s, p) for s, p in statements if "count(" in s]


def test_totals_are_capped_at_ten_thousand() -> None:
    assert queries.COUNT_CAP == 10_000


def test_total_under_the_cap_is_exact(client: FlaskClient, auth: Auth,
                                      seeded: list[Any], runtime: Any) -> None:
    statements = _statements(runtime.engine)
    resp = client.get("/api/v1/audit?per_page=4", headers=auth("root", admin=True))
    assert resp.headers["X-Total"] == "6" and resp.headers["X-Total-Pages"] == "2"
    assert "X-Total-Capped" not in resp.headers
    [(counted, params)] = _counts(statements)
    assert "limit" in counted and queries.COUNT_CAP + 1 in params


@pytest.mark.parametrize(("query", "total", "pages"), [
    ("per_page=4&page=2", "6", "2"),     # the last page: its rows end the list
    ("per_page=15", "6", "1"),
    ("q=nobody", "0", "1"),
])
def test_a_page_that_is_not_full_is_not_counted(
        client: FlaskClient, auth: Auth, seeded: list[Any], runtime: Any,
        query: str, total: str, pages: str) -> None:
    statements = _statements(runtime.engine)
    resp = client.get(f"/api/v1/audit?{query}", headers=auth("root", admin=True))
    assert resp.headers["X-Total"] == total
    assert resp.headers["X-Total-Pages"] == pages
    assert _counts(statements) == []


def test_an_empty_page_past_the_end_is_counted(client: FlaskClient, auth: Auth,
                                               seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit?per_page=4&page=3",
                      headers=auth("root", admin=True))
    assert resp.get_json() == []
    assert resp.headers["X-Total"] == "6" and resp.headers["X-Total-Pages"] == "2"


@pytest.fixture
def cap_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 2)


@pytest.mark.parametrize(("query", "ids", "total", "pages", "capped"), [
    ("per_page=1", [6], "2", "2", True),
    ("per_page=2&page=2", [4, 3], "4", "2", True),   # never below what was shown
    ("per_page=4&page=2", [2, 1], "6", "2", False),  # the last page is exact
    ("per_page=2&page=9", [], "2", "1", True),
    ("q=qa&per_page=1", [6], "2", "2", True),
    ("q=qa&per_page=3", [6, 4, 2], "3", "1", True),
    ("q=qa&per_page=3&page=2", [1], "4", "2", False),
    ("target_type=repository&per_page=1", [6], "2", "2", False),  # at the cap
    ("target_type=namespace&q=qa&per_page=1", [2], "2", "2", False),
    ("target_type=repository&q=qa&since=2026-03-01T13:00:00Z&per_page=1", [6], "2",
     "2", False),
    ("target_type=namespace&sort_order=asc&per_page=1", [1], "2", "2", False),
])
def test_total_past_the_cap_is_a_lower_bound(
        client: FlaskClient, auth: Auth, seeded: list[Any], cap_of_two: None,
        query: str, ids: list[int], total: str, pages: str, capped: bool) -> None:
    resp = client.get(f"/api/v1/audit?{query}", headers=auth("root", admin=True))
    assert resp.status_code == 200
    assert [r["id"] for r in resp.get_json()] == ids
    assert resp.headers["X-Total"] == total
    assert resp.headers["X-Total-Pages"] == pages
    assert resp.headers.get("X-Total-Capped") == ("true" if capped else None)


def test_cap_applies_to_what_a_user_may_see(client: FlaskClient, auth: Auth,
                                            seeded: list[Any],
                                            cap_of_two: None) -> None:
    resp = client.get("/api/v1/audit?per_page=1", headers=auth("alice", uid=2))
    assert [r["id"] for r in resp.get_json()] == [4]
    assert resp.headers["X-Total"] == "2" and resp.headers["X-Total-Capped"] == "true"
    resp = client.get("/api/v1/audit?per_page=1", headers=auth("bob", uid=3))
    assert resp.headers["X-Total"] == "2" and "X-Total-Capped" not in resp.headers


def test_all_is_capped_too(client: FlaskClient, auth: Auth, seeded: list[Any],
                           monkeypatch: pytest.MonkeyPatch, cap_of_two: None) -> None:
    from berth.audit.api import audit

    monkeypatch.setattr(audit, "MAX_ALL", 3)
    resp = client.get("/api/v1/audit?all=true&per_page=2",
                      headers=auth("root", admin=True))
    assert len(resp.get_json()) == 3
    assert resp.headers["X-Total"] == "3" and resp.headers["X-Total-Capped"] == "true"


def test_cursor_paging_sends_no_totals(client: FlaskClient, auth: Auth,
                                       seeded: list[Any], runtime: Any,
                                       cap_of_two: None) -> None:
    statements = _statements(runtime.engine)
    resp = client.get("/api/v1/audit?cursor=&per_page=2&q=qa",
                      headers=auth("root", admin=True))
    assert [r["id"] for r in resp.get_json()] == [6, 4]
    assert resp.headers["X-Next-Cursor"] == "4"
    assert not {"X-Total", "X-Total-Pages", "X-Total-Capped"} & set(resp.headers.keys())
    assert _counts(statements) == []


def test_sort_by_action(client: FlaskClient, auth: Auth, seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit?sort_attr=action&sort_order=asc",
                      headers=auth("root", admin=True))
    actions = [r["action"] for r in resp.get_json()]
    assert actions == sorted(actions)


def test_cursor_paging_walks_newest_first(client: FlaskClient, auth: Auth,
                                          seeded: list[Any]) -> None:
    headers = auth("root", admin=True)
    seen: list[int] = []
    cursor = ""
    for _ in range(5):
        resp = client.get(f"/api/v1/audit/events?per_page=4&cursor={cursor}",
                          headers=headers)
        assert resp.status_code == 200
        seen += [r["id"] for r in resp.get_json()]
        cursor = resp.headers.get("X-Next-Cursor", "")
        if not cursor:
            break
    assert seen == [6, 5, 4, 3, 2, 1]


# -- verify ---------------------------------------------------------------------

def test_verify_reports_intact_then_the_tampered_record(
        client: FlaskClient, auth: Auth, seeded: list[Any], sessions: Any) -> None:
    from sqlalchemy import text

    headers = auth("root", admin=True)
    resp = client.get("/api/v1/audit/verify", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json()["intact"] is True and resp.get_json()["records"] == 6
    with sessions() as s:
        s.execute(text("UPDATE audit_records SET actor_name = 'eve' WHERE id = 3"))
        s.commit()
    body = client.get("/api/v1/audit/verify", headers=headers).get_json()
    assert body["intact"] is False
    assert body["broken"] == {"id": 3, "reason": "hash_mismatch"}


def test_internal_service_may_verify(client: FlaskClient, seeded: list[Any]) -> None:
    resp = client.get("/api/v1/audit/verify",
                      headers={"X-Berth-Internal": "internal-test-secret"})
    assert resp.status_code == 200 and resp.get_json()["intact"] is True


# -- service endpoints --------------------------------------------------------------

def test_openapi_documents_every_audit_path(client: FlaskClient) -> None:
    for path in ("/openapi.json", "/api/v1/audit/openapi.json"):
        doc = client.get(path).get_json()
        assert doc["openapi"].startswith("3.")
        assert {"/api/v1/audit", "/api/v1/audit/{id}", "/api/v1/audit/export",
                "/api/v1/audit/verify", "/api/v1/audit/events"} <= set(doc["paths"])


def test_openapi_documents_the_paging_headers(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    headers = doc["paths"]["/api/v1/audit"]["get"]["responses"]["200"]["headers"]
    assert {"X-Total", "X-Total-Pages", "X-Page", "X-Per-Page", "X-Total-Capped",
            "X-Next-Cursor"} <= set(headers)
    assert "10,000" in headers["X-Total-Capped"]["description"]


def test_ping_and_health(client: FlaskClient) -> None:
    assert client.get("/api/v1/_ping").status_code == 200
    health = client.get("/api/v1/health").get_json()
    assert health["database"]["success"] is True


def test_metrics_count_verifications(client: FlaskClient, auth: Auth) -> None:
    client.get("/api/v1/audit/verify", headers=auth("root", admin=True))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'berth_audit_chain_verifications_total{result="intact"}' in text


def test_id_beyond_bigint_is_404_not_500(client: FlaskClient, auth: Auth) -> None:
    resp = client.get(f"/api/v1/audit/{2**70}", headers=auth("root", admin=True))
    _assert_error(resp, 404)


def test_huge_cursor_starts_from_the_newest(client: FlaskClient, auth: Auth,
                                            seeded: list[Any]) -> None:
    resp = client.get(f"/api/v1/audit?cursor={10**30}&per_page=2",
                      headers=auth("root", admin=True))
    assert resp.status_code == 200
    assert [r["id"] for r in resp.get_json()] == [6, 5]
