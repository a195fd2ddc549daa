"""Who sees which record (Portus' activity rule): admins everything; others
their own actions and the records about namespaces and teams they may see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from berth.audit.memberships import Scope, StaticMemberships

Auth = Callable[..., dict[str, str]]
CAROL = {"id": 5, "name": "carol", "address": "10.0.0.5"}
DAVE = {"id": 6, "name": "dave", "address": "10.0.0.6"}


def _push(repository: str, registry: str = "reg", actor: str = "carol") -> tuple[
        str, dict[str, Any], None]:
    return ("registry.manifest.pushed",
            {"registry": registry, "repository": repository, "digest": "sha256:1",
             "tag": "v1", "actor": actor, "source_addr": "10.0.0.5"}, None)


# name -> (event type, data, actor); carol acts everywhere, dave once.
RECORDS: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {
    "push_team_ns": _push("devs/app"),
    "push_private_ns": _push("secret/app"),
    "push_public_ns": _push("open/app"),
    "push_global_ns": _push("alpine"),
    "push_same_name_other_registry": _push("devs/app", registry="reg2"),
    "team_ns_created": ("catalog.namespace.created",
                        {"entity_id": 10, "name": "devs", "namespace": "devs",
                         "registry": "reg"}, CAROL),
    "private_ns_created": ("catalog.namespace.created",
                           {"entity_id": 11, "name": "secret", "namespace": "secret",
                            "registry": "reg"}, CAROL),
    "old_ns_of_same_name": ("catalog.namespace.visibility_changed",
                            {"entity_id": 99, "name": "devs", "namespace": "devs"},
                            CAROL),
    "team_ns_starred": ("catalog.star.added",
                        {"entity_id": 3, "name": "app", "namespace": "devs",
                         "repository": "devs/app"}, CAROL),
    "own_team_member_added": ("catalog.team.member_added",
                              {"entity_id": 20, "name": "devs-team",
                               "details": {"user": "dave"}}, CAROL),
    "other_team_member_added": ("catalog.team.member_added",
                                {"entity_id": 21, "name": "secret-team",
                                 "details": {"user": "erin"}}, CAROL),
    "dave_in_private_ns": ("catalog.repository.updated",
                           {"entity_id": 4, "name": "app", "namespace": "secret",
                            "repository": "secret/app"}, DAVE),
    "dave_pulls_private": _push("secret/app", actor="dave"),
    "carol_login": ("identity.login.succeeded",
                    {"username": "carol", "user_id": 5, "address": "10.0.0.5"}, None),
}

DAVE_SCOPE = Scope(namespaces={"reg": frozenset({"devs", "open", "dave"})},
                   namespace_ids=frozenset({10, 12, 13}),
                   global_registries=frozenset({"reg"}),
                   team_ids=frozenset({20}))

# (case, user, admin, record, visible)
TABLE = [
    ("admin_sees_a_private_namespace", "root", True, "push_private_ns", True),
    ("admin_sees_another_users_login", "root", True, "carol_login", True),
    ("member_sees_pushes_to_the_team_namespace", "dave", False, "push_team_ns", True),
    ("member_sees_the_team_namespace_created", "dave", False, "team_ns_created", True),
    ("member_sees_stars_in_the_team_namespace", "dave", False, "team_ns_starred",
     True),
    ("member_sees_the_team_changes", "dave", False, "own_team_member_added", True),
    ("non_member_does_not_see_a_private_namespace", "dave", False, "push_private_ns",
     False),
    ("non_member_does_not_see_its_creation", "dave", False, "private_ns_created",
     False),
    ("non_member_does_not_see_another_team", "dave", False,
     "other_team_member_added", False),
    ("public_namespace_is_seen", "dave", False, "push_public_ns", True),
    ("global_namespace_is_seen", "dave", False, "push_global_ns", True),
    ("same_name_in_another_registry_is_not_seen", "dave", False,
     "push_same_name_other_registry", False),
    ("namespace_records_match_by_id_not_name", "dave", False, "old_ns_of_same_name",
     False),
    ("own_action_in_a_private_namespace_is_seen", "dave", False,
     "dave_in_private_ns", True),
    ("own_registry_action_by_name_is_seen", "dave", False, "dave_pulls_private",
     True),
    ("another_users_login_is_not_seen", "dave", False, "carol_login", False),
    ("outsider_sees_only_public_and_global", "erin", False, "push_team_ns", False),
    ("outsider_sees_public", "erin", False, "push_public_ns", True),
]
USERS = {"root": 1, "dave": 6, "erin": 7}


@pytest.fixture
def seeded(record: Callable[..., Any], memberships: StaticMemberships) -> dict[str, int]:
    memberships.scopes[6] = DAVE_SCOPE
    memberships.scopes[7] = Scope(namespaces={"reg": frozenset({"open"})},
                                  namespace_ids=frozenset({12}),
                                  global_registries=frozenset({"reg"}))
    return {name: record(t, d, actor=a).id for name, (t, d, a) in RECORDS.items()}


def _ids(resp: Any) -> set[int]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {r["id"] for r in resp.get_json()}


@pytest.mark.parametrize(("case", "user", "admin", "name", "visible"), TABLE,
                         ids=[row[0] for row in TABLE])
def test_visibility_rule(client: FlaskClient, auth: Auth, seeded: dict[str, int],
                         case: str, user: str, admin: bool, name: str,
                         visible: bool) -> None:
    headers = auth(user, uid=USERS[user], admin=admin)
    record_id = seeded[name]
    listed = _ids(client.get("/api/v1/audit/events?all=true", headers=headers))
    assert (record_id in listed) is visible
    one = client.get(f"/api/v1/audit/events/{record_id}", headers=headers)
    assert one.status_code == (200 if visible else 404)
    exported = client.get("/api/v1/audit/export?format=jsonl", headers=headers)
    lines = [json.loads(x) for x in exported.get_data(as_text=True).splitlines()]
    assert (record_id in {r["id"] for r in lines}) is visible


def test_cursor_paging_and_filters_keep_the_rule(client: FlaskClient, auth: Auth,
                                                 seeded: dict[str, int]) -> None:
    headers = auth("dave", uid=6)
    by_cursor = _ids(client.get("/api/v1/audit?cursor=&per_page=100",
                                headers=headers))
    listed = _ids(client.get("/api/v1/audit?all=true", headers=headers))
    assert by_cursor == listed
    secret = _ids(client.get("/api/v1/audit?namespace=secret&all=true",
                             headers=headers))
    assert secret == {seeded["dave_in_private_ns"], seeded["dave_pulls_private"]}


def test_other_users_addresses_are_hidden_from_non_admins(
        client: FlaskClient, auth: Auth, seeded: dict[str, int]) -> None:
    dave = auth("dave", uid=6)
    shown = client.get(f"/api/v1/audit/{seeded['push_team_ns']}", headers=dave)
    assert shown.get_json()["actor"] == {"id": None, "name": "carol", "address": None}
    own = client.get(f"/api/v1/audit/{seeded['dave_pulls_private']}", headers=dave)
    assert own.get_json()["actor"]["address"] == "10.0.0.5"
    csv_body = client.get("/api/v1/audit/export?format=csv&namespace=devs",
                          headers=dave).get_data(as_text=True)
    assert "carol" in csv_body and "10.0.0.5" not in csv_body
    root = client.get(f"/api/v1/audit/{seeded['push_team_ns']}",
                      headers=auth("root", uid=1, admin=True))
    assert root.get_json()["actor"]["address"] == "10.0.0.5"


def test_a_user_the_catalog_does_not_know_sees_only_their_own(
        client: FlaskClient, auth: Auth, seeded: dict[str, int]) -> None:
    listed = _ids(client.get("/api/v1/audit?all=true", headers=auth("carol", uid=5)))
    assert seeded["carol_login"] in listed
    assert seeded["push_team_ns"] in listed        # carol pushed it
    assert seeded["dave_in_private_ns"] not in listed
