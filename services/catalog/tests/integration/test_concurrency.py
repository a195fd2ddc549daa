"""Concurrent first requests of a brand-new user create one mirror row and one
personal namespace, and every request is answered (MariaDB: real row locks)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from berth.catalog.models import Namespace, User
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
