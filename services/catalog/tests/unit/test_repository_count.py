"""namespaces.repositories_count follows every way a repository comes and
goes, so list totals (a sum of the counts) match the repositories listed."""

from __future__ import annotations

from typing import Any

from berth.catalog.models import Namespace, Repository
from berth.common.events.registry import ManifestDeleted
from sqlalchemy import func, select

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
SERVICE = "registry.test:5000"


def kept_and_counted(world: Any) -> tuple[dict[str, int], dict[str, int]]:
    with world.session() as s:
        kept = {n: c for n, c in s.execute(
            select(Namespace.name, Namespace.repositories_count)) if c}
        counted = {n: c for n, c in s.execute(
            select(Namespace.name, func.count(Repository.id))
            .join(Repository, Repository.namespace_id == Namespace.id)
            .group_by(Namespace.name))}
    return kept, counted


def listed(user: Any, path: str = "/api/v1/repositories", **params: Any
           ) -> tuple[list[str], int]:
    resp = user.get(path, query_string=params)
    assert resp.status_code == 200, resp.get_json()
    return [r["full_name"] for r in resp.get_json()], int(resp.headers["X-Total"])


def test_counts_follow_creates_and_every_delete(world: Any) -> None:
    admin = world.user("root", admin=True)
    world.team(admin, "t")
    world.namespace(admin, "priv", "t")
    for name in ("priv/a", "priv/b", "priv/c", "busybox"):
        world.push(name, "v1", D1)
    world.push("priv/c", "v2", D2)
    world.push("priv/a", "v1", D1)  # a push to a known repository adds nothing
    kept, counted = kept_and_counted(world)
    assert kept == counted and counted["priv"] == 3

    # the API deletes a repository
    assert admin.delete(f"/api/v1/repositories/{world.repo_id('priv/a')}"
                        ).status_code == 204
    # the API deletes the last tag of a repository
    tags = admin.get(f"/api/v1/repositories/{world.repo_id('priv/b')}/tags").get_json()
    assert admin.delete(f"/api/v1/tags/{tags[0]['id']}").status_code == 204
    # the registry deletes the manifests of a repository, one at a time
    world.deliver(ManifestDeleted(registry=SERVICE, repository="priv/c", digest=D1))
    assert kept_and_counted(world)[0]["priv"] == 1
    world.deliver(ManifestDeleted(registry=SERVICE, repository="priv/c", digest=D2))
    kept, counted = kept_and_counted(world)
    assert kept == counted and "priv" not in kept
    assert listed(admin) == (["busybox"], 1)


def test_totals_are_what_the_caller_may_see(world: Any) -> None:
    admin, bob = world.user("root", admin=True), world.user("bob")
    world.team(admin, "t")
    world.namespace(admin, "priv", "t")
    world.namespace(admin, "pub", "t", visibility="public")
    for name in ("priv/a", "priv/b", "pub/a", "pub/b", "pub/c", "busybox"):
        world.push(name, "v1", D1)
    assert listed(admin)[1] == 6
    assert listed(bob) == (["pub/a", "pub/b", "busybox", "pub/c"], 4)
    assert listed(bob, per_page=2, page=2) == (["busybox", "pub/c"], 4)
    assert listed(bob, sort_attr="name", sort_order="desc", per_page=1) == (
        ["pub/c"], 4)
    assert listed(admin, per_page=2, page=2, sort_attr="id") == (
        ["pub/a", "pub/b"], 6)
    with world.session() as s:  # a namespace's own list is counted the same way
        pub = s.scalar(select(Namespace.id).where(Namespace.name == "pub"))
        priv = s.scalar(select(Namespace.id).where(Namespace.name == "priv"))
    assert listed(bob, f"/api/v1/namespaces/{pub}/repositories", per_page=2) == (
        ["pub/a", "pub/b"], 3)
    assert bob.get(f"/api/v1/namespaces/{priv}/repositories").status_code == 404
    assert listed(admin, f"/api/v1/namespaces/{priv}/repositories") == (
        ["priv/a", "priv/b"], 2)
    assert listed(bob, all="true")[0] == ["pub/a", "pub/b", "busybox", "pub/c"]
