"""Concurrent first requests of a brand-new user create one mirror row and one
personal namespace, and every request is answered (MariaDB: real row locks)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from berth.catalog.models import Namespace, User
from berth.common.consumer import PROCESSED
from berth.common.testing import backend
from sqlalchemy import func, select

SERVICE = "registry.test:5000"


@pytest.mark.skipif(backend() != "mysql", reason="SQLite in memory is one connection")
def test_parallel_authorize_for_a_new_user(world: Any) -> None:
    principal = {"id": 4242, "username": "rush", "admin": False, "kind": "user"}
    body = {"principal": principal, "service": SERVICE,
            "scopes": [{"type": "repository", "name": "rush/app",
                        "actions": ["pull", "push"]}]}
    barrier = threading.Barrier(8)
    answers: list[Any] = []

    def call() -> None:
        client = world.app.test_client()
        barrier.wait()
        resp = client.post("/internal/v1/authorize", json=body,
                           headers=world.internal())
        answers.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [status for status, _ in answers] == [200] * 8, answers
    assert all(a["scopes"][0]["actions"] == ["pull", "push"] for _, a in answers)
    with world.session() as s:
        assert s.scalar(select(func.count(User.id)).where(User.id == 4242)) == 1
        assert s.scalar(select(func.count(Namespace.id)).where(
            Namespace.owner_user_id == 4242)) == 1


@pytest.mark.skipif(backend() != "mysql", reason="SQLite in memory is one connection")
def test_parallel_pushes_into_one_namespace_keep_its_count(world: Any) -> None:
    from berth.catalog.models import Repository, RepositoryNameSuffix

    admin = world.user("root", admin=True)
    world.team(admin, "t")
    world.namespace(admin, "busy", "t")
    # new repositories side by side, and several pushes racing for one
    names = [f"busy/app{i}" for i in range(6)] + ["busy/same"] * 6
    barrier = threading.Barrier(len(names))
    outcomes: list[Any] = []

    def push(name: str, n: int) -> None:
        barrier.wait()
        try:
            outcomes.append((name, world.push(name, f"t{n}", "sha256:" + f"{n:x}" * 64)))
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            outcomes.append((name, exc))

    threads = [threading.Thread(target=push, args=(name, n))
               for n, name in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # no deadlock: the namespace row is locked before the repository row
    assert [o for _, o in outcomes] == [PROCESSED] * len(names), outcomes
    with world.session() as s:
        ns = s.scalar(select(Namespace).where(Namespace.name == "busy"))
        assert ns is not None
        repos = s.scalar(select(func.count(Repository.id)).where(
            Repository.namespace_id == ns.id))
        assert ns.repositories_count == repos
        same = s.scalar(select(Repository.id).where(Repository.name == "same"))
        assert s.scalar(select(func.count()).select_from(RepositoryNameSuffix).where(
            RepositoryNameSuffix.repository_id == same)) == len("same")
    assert ns.repositories_count == 7
