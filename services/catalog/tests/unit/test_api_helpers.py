"""The caller's mirror row: refreshed when the token says something new,
read only (no write, no commit) when it says nothing new."""

from __future__ import annotations

from typing import Any

from berth.catalog.models import User
from sqlalchemy import select

from .test_query_count import counting


def test_a_known_caller_costs_one_read(world: Any) -> None:
    alice = world.user("alice")
    assert alice.get("/api/v1/teams").status_code == 200
    with counting(world) as seen:
        assert alice.get("/api/v1/teams").status_code == 200
    users = [s for s in seen if "FROM users" in s]
    assert len(users) == 1 and "users.username =" not in users[0]


def test_a_renamed_caller_is_refreshed(world: Any) -> None:
    alice = world.user("alice")
    alice.username = "alicia"
    assert alice.get("/api/v1/teams").status_code == 200
    with world.session() as s:
        assert s.scalar(select(User.username).where(User.id == alice.id)) == "alicia"


def test_a_name_taken_by_a_stale_row_moves_to_the_caller(world: Any) -> None:
    old, new = world.user("bob"), world.user("robert")
    new.username = "bob"  # the token service deleted old and renamed new
    assert new.get("/api/v1/teams").status_code == 200
    with world.session() as s:
        assert s.scalar(select(User.id).where(User.username == "bob")) == new.id
        assert s.get(User, old.id) is None


def _transaction_open_after_ctx(world: Any, caller: Any, method: str) -> bool:
    from berth.catalog.api.helpers import ctx

    with world.app.test_request_context("/api/v1/teams", method=method,
                                        headers=caller.headers):
        world.app.preprocess_request()
        return bool(ctx().session.in_transaction())


def test_a_known_callers_write_request_begins_its_own_transaction(world: Any) -> None:
    # A read snapshot that later writes is refused at once on SQLite when another
    # process wrote since it began; a write request must start as a writer.
    alice = world.user("alice")
    assert alice.get("/api/v1/teams").status_code == 200
    assert not _transaction_open_after_ctx(world, alice, "POST")
    assert _transaction_open_after_ctx(world, alice, "GET")  # reads keep one snapshot
