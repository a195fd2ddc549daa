"""Every event type maps to the right action key and target (one row per case)."""

from __future__ import annotations

from typing import Any

import pytest

from berth.audit.actions import map_event, namespace_of

CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # (case name, event type, data, expected subset of the mapping)
    ("user_created", "identity.user.created", {"user_id": 3, "username": "bob"},
     {"action": "user.create", "target_type": "user", "target_id": "3",
      "target_name": "bob"}),
    ("user_deleted", "identity.user.deleted", {"user_id": 3, "username": "bob"},
     {"action": "user.delete", "target_name": "bob"}),
    ("user_disabled", "identity.user.updated",
     {"user_id": 3, "username": "bob", "enabled": False, "changes": ["enabled"]},
     {"action": "user.disable"}),
    ("user_enabled", "identity.user.updated",
     {"user_id": 3, "username": "bob", "enabled": True, "changes": ["enabled"]},
     {"action": "user.enable"}),
    ("admin_granted", "identity.user.updated",
     {"user_id": 3, "username": "bob", "admin": True, "changes": ["admin"]},
     {"action": "user.admin_grant"}),
    ("admin_revoked", "identity.user.updated",
     {"user_id": 3, "username": "bob", "admin": False, "changes": ["admin"]},
     {"action": "user.admin_revoke"}),
    ("profile_updated", "identity.user.updated",
     {"user_id": 3, "username": "bob", "changes": ["email"]},
     {"action": "user.update"}),
    ("token_created", "identity.application_token.created",
     {"user_id": 3, "username": "bob", "token_id": 9, "application": "ci"},
     {"action": "application_token.create", "target_type": "application_token",
      "target_id": "9", "target_name": "ci"}),
    ("token_destroyed", "identity.application_token.destroyed",
     {"user_id": 3, "username": "bob", "token_id": 9, "application": "ci"},
     {"action": "application_token.destroy", "target_name": "ci"}),
    ("login_succeeded", "identity.login.succeeded",
     {"username": "bob", "user_id": 3, "address": "10.0.0.1"},
     {"action": "login.succeeded", "target_name": "bob", "actor_name": "bob",
      "actor_address": "10.0.0.1"}),
    ("login_failed", "identity.login.failed",
     {"username": "mallory", "reason": "bad_credentials", "address": "10.0.0.2"},
     {"action": "login.failed", "target_name": "mallory", "actor_name": "mallory",
      "details": {"reason": "bad_credentials"}}),
    ("team_created", "catalog.team.created", {"entity_id": 4, "name": "qa"},
     {"action": "team.create", "target_type": "team", "target_id": "4",
      "target_name": "qa"}),
    ("team_renamed", "catalog.team.updated",
     {"entity_id": 4, "name": "qa2", "details": {"old_name": "qa", "new_name": "qa2"}},
     {"action": "team.change_team_name"}),
    ("team_renamed_by_catalog", "catalog.team.updated",
     {"entity_id": 4, "name": "qa2", "details": {"changed": ["name", "description"]}},
     {"action": "team.change_team_name"}),
    ("team_described", "catalog.team.updated",
     {"entity_id": 4, "name": "qa", "details": {"changes": ["description"]}},
     {"action": "team.change_team_description"}),
    ("team_updated_other", "catalog.team.updated", {"entity_id": 4, "name": "qa"},
     {"action": "team.update"}),
    ("team_deleted", "catalog.team.deleted", {"entity_id": 4, "name": "qa"},
     {"action": "team.delete"}),
    ("member_added", "catalog.team.member_added",
     {"entity_id": 4, "name": "qa", "details": {"user": "bob", "role": "viewer"}},
     {"action": "team.add_member", "target_name": "qa",
      "details": {"user": "bob", "role": "viewer"}}),
    ("member_removed", "catalog.team.member_removed",
     {"entity_id": 4, "name": "qa", "details": {"user": "bob"}},
     {"action": "team.remove_member"}),
    ("member_role_changed", "catalog.team.member_role_changed",
     {"entity_id": 4, "name": "qa", "details": {"user": "bob", "role": "owner"}},
     {"action": "team.change_member_role"}),
    ("namespace_created", "catalog.namespace.created",
     {"entity_id": 7, "name": "qa-ns", "registry": "reg:5000"},
     {"action": "namespace.create", "target_type": "namespace", "namespace": "qa-ns",
      "registry": "reg:5000"}),
    ("namespace_visibility", "catalog.namespace.visibility_changed",
     {"entity_id": 7, "name": "qa-ns", "details": {"visibility": "public"}},
     {"action": "namespace.change_visibility", "namespace": "qa-ns",
      "details": {"visibility": "public"}}),
    ("namespace_team", "catalog.namespace.team_changed",
     {"entity_id": 7, "name": "qa-ns"}, {"action": "namespace.change_team"}),
    ("namespace_description", "catalog.namespace.description_changed",
     {"entity_id": 7, "name": "qa-ns"},
     {"action": "namespace.change_namespace_description"}),
    ("namespace_renamed", "catalog.namespace.renamed",
     {"entity_id": 7, "name": "qa2", "namespace": "qa2",
      "details": {"renamed_from": "qa"}},
     {"action": "namespace.rename", "namespace": "qa2",
      "details": {"renamed_from": "qa"}}),
    ("namespace_deleted", "catalog.namespace.deleted",
     {"entity_id": 7, "name": "qa-ns"}, {"action": "namespace.delete"}),
    ("repository_created", "catalog.repository.created",
     {"entity_id": 8, "name": "app", "namespace": "qa-ns"},
     {"action": "repository.create", "repository": "qa-ns/app",
      "namespace": "qa-ns"}),
    ("repository_deleted", "catalog.repository.deleted",
     {"entity_id": 8, "name": "app", "namespace": "qa-ns", "repository": "qa-ns/app"},
     {"action": "repository.delete", "target_type": "repository",
      "repository": "qa-ns/app"}),
    ("tag_deleted", "catalog.tag.deleted",
     {"entity_id": 11, "name": "v1", "repository": "qa-ns/app"},
     {"action": "tag.delete", "namespace": "qa-ns", "repository": "qa-ns/app"}),
    ("star_added", "catalog.star.added",
     {"entity_id": 8, "name": "app", "repository": "qa-ns/app"},
     {"action": "repository.star"}),
    ("comment_created", "catalog.comment.created",
     {"entity_id": 12, "name": "c", "repository": "qa-ns/app"},
     {"action": "comment.create"}),
    ("registry_deleted", "catalog.registry.deleted",
     {"entity_id": 1, "name": "main", "registry": "reg:5000"},
     {"action": "registry.delete", "target_type": "registry"}),
    ("webhook_created", "catalog.webhook.created",
     {"entity_id": 5, "name": "https://hooks.example/x", "namespace": "qa-ns"},
     {"action": "webhook.create", "target_type": "webhook", "namespace": "qa-ns"}),
    ("webhook_deleted", "catalog.webhook.deleted", {"entity_id": 5, "name": "h"},
     {"action": "webhook.delete"}),
    ("push_notification", "registry.manifest.pushed",
     {"registry": "reg:5000", "repository": "qa-ns/app", "digest": "sha256:ab",
      "tag": "v1", "actor": "bob", "source_addr": "10.0.0.3",
      "origin": "notification"},
     {"action": "repository.push", "target_type": "repository",
      "target_name": "qa-ns/app:v1", "namespace": "qa-ns", "repository": "qa-ns/app",
      "registry": "reg:5000", "actor_name": "bob", "actor_address": "10.0.0.3"}),
    ("push_reconcile", "registry.manifest.pushed",
     {"registry": "reg:5000", "repository": "qa-ns/app", "digest": "sha256:ab",
      "tag": "v1", "origin": "reconcile"},
     {"action": "repository.sync_add"}),
    ("push_global_namespace", "registry.manifest.pushed",
     {"registry": "reg:5000", "repository": "busybox", "digest": "sha256:ab"},
     {"action": "repository.push", "namespace": None, "repository": "busybox",
      "target_name": "busybox"}),
    ("pull", "registry.manifest.pulled",
     {"registry": "reg:5000", "repository": "qa-ns/app", "digest": "sha256:ab",
      "actor": "eve"},
     {"action": "repository.pull", "actor_name": "eve"}),
    ("manifest_deleted", "registry.manifest.deleted",
     {"registry": "reg:5000", "repository": "qa-ns/app", "digest": "sha256:ab"},
     {"action": "repository.delete_manifest"}),
    ("manifest_gone_reconcile", "registry.manifest.deleted",
     {"registry": "reg:5000", "repository": "qa-ns/app", "digest": "sha256:ab",
      "origin": "reconcile"},
     {"action": "repository.sync_remove"}),
    ("tag_removed_reconcile", "registry.tag.removed",
     {"registry": "reg:5000", "repository": "qa-ns/app", "tag": "v1"},
     {"action": "repository.sync_remove", "target_name": "qa-ns/app:v1"}),
    ("sync_started", "sync.run.started", {"registry": "reg:5000"},
     {"action": "sync.start", "target_type": "sync_run", "registry": "reg:5000"}),
    ("sync_finished", "sync.run.finished",
     {"run_id": 12, "status": "partial", "strategy": "update", "added": 2,
      "triggered_by": "alice"},
     {"action": "sync.finish", "target_type": "sync_run", "target_id": "12",
      "details": {"added": 2, "status": "partial"}}),
    ("unknown_type_kept", "billing.invoice.sent", {"amount": 3},
     {"action": "billing.invoice.sent", "target_type": None,
      "details": {"amount": 3}}),
]


@pytest.mark.parametrize(("event_type", "data", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_event_maps_to_action_and_target(event_type: str, data: dict[str, Any],
                                         expected: dict[str, Any]) -> None:
    mapped = map_event(event_type, data)
    for name, value in expected.items():
        got = getattr(mapped, name)
        if name == "details":
            for key, item in value.items():
                if item is not None:
                    assert got.get(key) == item, (key, got)
        else:
            assert got == value, (name, got)


def test_every_portus_activity_key_is_produced() -> None:
    produced = {map_event(c[1], c[2]).action for c in CASES}
    portus = {"repository.push", "repository.delete", "namespace.create",
              "namespace.change_visibility", "namespace.change_team",
              "namespace.change_namespace_description", "namespace.delete",
              "team.create", "team.add_member", "team.remove_member",
              "team.change_member_role", "team.change_team_name",
              "team.change_team_description", "application_token.create",
              "application_token.destroy", "registry.delete", "user.delete"}
    assert portus <= produced


def test_malformed_data_does_not_break_mapping() -> None:
    mapped = map_event("catalog.team.updated", {"details": "not-a-dict", "name": ["x"]})
    assert mapped.action == "team.update"
    assert mapped.target_name is None


@pytest.mark.parametrize(("repository", "namespace"), [
    ("qa/app", "qa"), ("qa/sub/app", "qa"), ("busybox", None), (None, None)])
def test_namespace_of_repository(repository: str | None,
                                 namespace: str | None) -> None:
    assert namespace_of(repository) == namespace


def _envelope_of(event: Any, actor: Any = None) -> Any:
    from berth.common.events.base import Envelope

    return Envelope.wrap(event, producer="test", actor=actor)


def test_real_contracts_of_the_done_scenarios(record: Any) -> None:
    """The issue's scenarios, built with the producers' own contract classes."""
    from berth.common.events import catalog, identity, registry
    from berth.common.events.base import Actor

    alice = Actor(id=2, name="alice", address="10.0.0.2")
    cases = [
        (registry.ManifestPushed(registry="r", repository="qa/app",
                                 digest="sha256:1", tag="v1", actor="alice",
                                 source_addr="10.0.0.2"), None,
         ("repository.push", "alice", "repository", "qa/app:v1")),
        (catalog.NamespaceVisibilityChanged(entity_id=1, name="qa", namespace="qa",
                                            details={"from": "private",
                                                     "to": "public"}), alice,
         ("namespace.change_visibility", "alice", "namespace", "qa")),
        (catalog.TeamMemberAdded(entity_id=5, name="devs",
                                 details={"user": "bob", "role": "viewer"}), alice,
         ("team.add_member", "alice", "team", "devs")),
        (identity.LoginFailed(username="mallory", reason="bad_credentials",
                              address="10.9.9.9"),
         Actor(name="mallory", address="10.9.9.9"),
         ("login.failed", "mallory", "user", "mallory")),
        (identity.ApplicationTokenCreated(user_id=2, username="alice", token_id=7,
                                          application="ci"), alice,
         ("application_token.create", "alice", "application_token", "ci")),
    ]
    for event, actor, expected in cases:
        env = _envelope_of(event, actor)
        mapped = map_event(env.type, env.data)
        assert mapped.action == expected[0]
        assert (mapped.target_type, mapped.target_name) == expected[2:]
        rec = record(env.type, env.data, actor=env.actor)
        assert (rec.action, rec.actor_name, rec.target_type, rec.target_name) == \
            expected
