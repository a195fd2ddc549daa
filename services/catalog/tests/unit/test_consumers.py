"""Registry and identity events applied by the catalog's consumer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from berth.catalog.models import Namespace, Repository, Tag, User
from berth.common.events.base import Actor
from berth.common.events.identity import UserCreated, UserDeleted, UserUpdated
from berth.common.events.registry import (
    ManifestDeleted,
    ManifestPulled,
    ManifestPushed,
    TagRemoved,
)
from sqlalchemy import select

SERVICE = "registry.test:5000"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def tags(world: Any, full_name: str) -> list[dict[str, Any]]:
    rid = world.repo_id(full_name)
    resp = world.client.get(f"/api/v1/repositories/{rid}/tags",
                            headers=world.internal())
    assert resp.status_code == 200
    return list(resp.get_json())


def test_push_creates_repository_and_tag_with_author(world: Any) -> None:
    alice = world.user("alice")
    assert world.push("alice/app", "v1", D1, actor="alice") == "processed"
    [tag] = tags(world, "alice/app")
    assert (tag["name"], tag["digest"], tag["size"]) == ("v1", D1, 1234)
    assert tag["author"] == {"id": alice.id, "name": "alice"}
    assert tag["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert "catalog.repository.created" in world.bus.types()
    assert "catalog.tag.pushed" in world.bus.types()


def test_redelivered_push_is_applied_once(world: Any) -> None:
    world.user("alice")
    assert world.push("alice/app", "v1", D1, event_id="e1") == "processed"
    assert world.push("alice/app", "v1", D1, event_id="e1") == "duplicate"
    assert world.push("alice/app", "v1", D1, event_id="e2") == "processed"
    assert len(tags(world, "alice/app")) == 1


def test_push_moves_tag_and_late_old_push_does_not_roll_back(world: Any) -> None:
    world.user("alice")
    now = datetime.now(UTC)
    world.push("alice/app", "v1", D2, occurred_at=now)
    world.push("alice/app", "v1", D1, occurred_at=now - timedelta(minutes=5))
    moved = tags(world, "alice/app")[0]
    assert moved["digest"] == D2 and moved["author"] == {"id": None, "name": None}


def test_push_into_global_namespace(world: Any) -> None:
    world.push("busybox", "latest", D1, actor="root")
    rid = world.repo_id("busybox")
    repo = world.client.get(f"/api/v1/repositories/{rid}").get_json()
    assert repo["namespace"]["name"] == "" and repo["full_name"] == "busybox"


def test_admin_push_into_unknown_namespace_creates_it_owned_by_global_team(
        world: Any) -> None:
    world.push("brandnew/app", "v1", D1, actor="root")
    with world.session() as s:
        ns = s.scalar(select(Namespace).where(Namespace.name == "brandnew"))
        assert ns is not None and ns.visibility == "private"
        assert ns.team.hidden and ns.team.name.startswith("~global-")
    assert "catalog.namespace.created" in world.bus.types()


def test_pull_sets_pulled_at(world: Any) -> None:
    world.user("alice")
    world.push("alice/app", "v1", D1)
    assert tags(world, "alice/app")[0]["pulled_at"] is None
    world.deliver(ManifestPulled(registry=SERVICE, repository="alice/app", digest=D1,
                                 tag="v1"))
    assert tags(world, "alice/app")[0]["pulled_at"] is not None


def test_manifest_delete_removes_all_tags_of_digest_then_empty_repo(world: Any) -> None:
    world.user("alice")
    world.push("alice/app", "v1", D1)
    world.push("alice/app", "also-v1", D1)
    world.push("alice/app", "v2", D2)
    world.deliver(ManifestDeleted(registry=SERVICE, repository="alice/app", digest=D1))
    assert [t["name"] for t in tags(world, "alice/app")] == ["v2"]
    world.deliver(ManifestDeleted(registry=SERVICE, repository="alice/app", digest=D2))
    with world.session() as s:
        assert s.scalar(select(Repository).where(Repository.name == "app")) is None
    # Redelivery of a delete for something gone is harmless.
    assert world.deliver(ManifestDeleted(registry=SERVICE, repository="alice/app",
                                         digest=D2)) == "processed"


def test_tag_removed_by_reconcile(world: Any) -> None:
    world.user("alice")
    world.push("alice/app", "v1", D1)
    world.push("alice/app", "v2", D1)
    world.deliver(TagRemoved(registry=SERVICE, repository="alice/app", tag="v1",
                             digest=D1))
    assert [t["name"] for t in tags(world, "alice/app")] == ["v2"]


def test_event_of_unknown_registry_is_ignored(world: Any) -> None:
    assert world.deliver(ManifestPulled(registry="other:1", repository="a/b",
                                        digest=D1)) == "processed"


def test_invalid_repository_name_is_dead_lettered(world: Any) -> None:
    assert world.push("Bad Name/app") == "dead"


def test_identity_events_keep_the_mirror_and_personal_namespace(world: Any) -> None:
    world.deliver(UserCreated(user_id=7, username="Bob.Smith"),
                  actor=Actor(id=1, name="root"))
    with world.session() as s:
        ns = s.scalar(select(Namespace).where(Namespace.owner_user_id == 7))
        assert ns is not None and ns.name == "bob-smith" and ns.personal
    world.deliver(UserUpdated(user_id=7, username="Bob.Smith", admin=True,
                              enabled=False, changes=["admin", "enabled"]))
    with world.session() as s:
        user = s.get(User, 7)
        assert user is not None and user.admin and not user.enabled
    world.push("bob-smith/app", "v1", D1, actor="Bob.Smith")
    world.deliver(UserDeleted(user_id=7, username="Bob.Smith"))
    with world.session() as s:
        assert s.get(User, 7) is None
        ns = s.scalar(select(Namespace).where(Namespace.name == "bob-smith"))
        assert ns is not None and ns.owner_user_id is None
        assert s.scalar(select(Tag.author_id)) is None


def test_user_created_after_authorize_is_consistent(world: Any) -> None:
    principal = {"id": 9, "username": "carol", "admin": False, "kind": "user"}
    world.client.post("/internal/v1/authorize", headers=world.internal(), json={
        "principal": principal, "service": SERVICE,
        "scopes": [{"type": "repository", "name": "carol/x", "actions": ["push"]}]})
    world.deliver(UserCreated(user_id=9, username="carol"))
    with world.session() as s:
        assert len(list(s.scalars(select(Namespace).where(
            Namespace.owner_user_id == 9)))) == 1


def test_reconcile_confirmation_keeps_author_and_push_time(world: Any) -> None:
    world.user("alice")
    world.push("alice/app", "v1", D1, actor="alice")
    before = tags(world, "alice/app")[0]
    world.deliver(ManifestPushed(registry=SERVICE, repository="alice/app", digest=D1,
                                 tag="v1", origin="reconcile"),
                  occurred_at=datetime.now(UTC) + timedelta(hours=1))
    after = tags(world, "alice/app")[0]
    assert after["author"] == before["author"]
    assert after["pushed_at"] == before["pushed_at"]
    world.deliver(ManifestPushed(registry=SERVICE, repository="alice/app", digest=D2,
                                 tag="v1", origin="reconcile"),
                  occurred_at=datetime.now(UTC) + timedelta(hours=2))
    moved = tags(world, "alice/app")[0]
    assert moved["digest"] == D2 and moved["author"] == {"id": None, "name": None}


def test_old_api_token_does_not_restore_admin_in_the_mirror(world: Any) -> None:
    boss = world.user("boss", admin=True)
    world.deliver(UserUpdated(user_id=boss.id, username="boss", admin=False,
                              enabled=True, changes=["admin"]))
    boss.get("/api/v1/teams")  # a JWT issued before the change still says adm
    with world.session() as s:
        row = s.get(User, boss.id)
        assert row is not None and row.admin is False


def test_name_reused_by_a_new_user_replaces_the_stale_mirror_row(world: Any) -> None:
    world.deliver(UserCreated(user_id=20, username="dana"))
    world.deliver(UserCreated(user_id=21, username="dana"))  # deletion never seen
    with world.session() as s:
        assert s.get(User, 20) is None and s.get(User, 21) is not None


def test_personal_namespace_avoids_a_taken_name(world: Any) -> None:
    owner = world.user("owner")
    world.team(owner, "devs")
    world.namespace(owner, "devs", "devs")
    world.deliver(UserCreated(user_id=30, username="devs"))
    with world.session() as s:
        ns = s.scalar(select(Namespace).where(Namespace.owner_user_id == 30))
        assert ns is not None and ns.name == "devs-30"
