"""The reconcile against the real registry: exactly the differences, nothing
deleted on errors, silence when nothing changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from berth.syncer.models import ObservedRepository, ObservedTag
from berth.syncer.registry_client import RegistryClient
from berth.syncer.wiring import ClientPool
from registry_process import RegistryProcess
from sqlalchemy import func, select
from syncer_testing import clear_outbox, outbox_events, wait_for


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def reconciler(app: Any) -> Any:
    return app.extensions["berth.syncer"].reconciler


def changes(runtime: Any) -> set[tuple[str, str, str, str]]:
    return {(e["type"], e["data"]["repository"], e["data"]["tag"], e["data"]["digest"])
            for e in outbox_events(runtime, "registry.")}


def observed_count(runtime: Any) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(ObservedTag)) or 0


def test_lost_notifications_are_recovered_exactly_and_a_rerun_is_silent(
        make_app, registry, runtime, relay):
    app = make_app(registry.url)
    moved_repo = unique("team/moved")
    registry.push(moved_repo, "latest")
    wait_for(lambda: outbox_events(runtime, "registry.manifest.pushed"))
    reconciler(app).run_now("system:test")  # absorb what earlier tests pushed
    clear_outbox(runtime)

    relay.mode = "drop"
    a, b = unique("team/a"), unique("b")
    expected = {("registry.manifest.pushed", a, tag, registry.push(a, tag))
                for tag in ("1", "2", "3", "4")}  # more tags than one page (3)
    expected.add(("registry.manifest.pushed", b, "x", registry.push(b, "x")))
    moved = registry.push(moved_repo, "latest", content=b"new content")
    expected.add(("registry.manifest.pushed", moved_repo, "latest", moved))

    run = reconciler(app).run_now("system:test")
    assert (run.status, run.errors, run.added, run.changed, run.removed) == \
        ("succeeded", 0, 5, 1, 0)
    assert changes(runtime) == expected
    assert {e["data"]["origin"] for e in outbox_events(runtime, "registry.")} == {"reconcile"}
    assert run.repositories >= 3 and run.tags >= 6

    clear_outbox(runtime)
    again = reconciler(app).run_now("system:test")
    assert (again.added, again.changed, again.removed, again.errors) == (0, 0, 0, 0)
    assert outbox_events(runtime) == []


@pytest.mark.parametrize("strategy,removes", [("update-delete", True), ("update", False)])
def test_a_manifest_deleted_behind_our_back_is_removed_only_by_update_delete(
        make_app, registry, runtime, relay, strategy, removes):
    app = make_app(registry.url)
    repo = unique("team/gone")
    digest = registry.push(repo, "old")
    keep = registry.push(repo, "keep")
    wait_for(lambda: observed_count(runtime) >= 2)
    reconciler(app).run_now("system:test")
    clear_outbox(runtime)

    relay.mode = "drop"
    resp = requests.delete(f"{registry.url}/v2/{repo}/manifests/{digest}", timeout=5)
    assert resp.status_code == 202
    run = reconciler(app).run_now("system:test", strategy)
    events = changes(runtime)
    if removes:
        assert events == {("registry.tag.removed", repo, "old", digest)}
        assert run.removed == 1
    else:
        assert events == set() and run.removed == 0
    with runtime.sessions() as s:
        tags = dict(s.execute(
            select(ObservedTag.tag, ObservedTag.digest).join(ObservedTag.repository)
            .where(ObservedRepository.name == repo)).all())
    assert tags.get("keep") == keep
    assert ("old" in tags) is not removes


class StopAfterFirstPage:
    """A client whose registry dies right after the first catalog page."""

    def __init__(self, inner: RegistryClient, proc: RegistryProcess) -> None:
        self.inner = inner
        self.proc = proc

    def catalog(self) -> Iterator[list[str]]:
        pages = self.inner.catalog()
        yield next(pages)
        self.proc.stop()
        yield from pages

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_registry_stopped_during_reconcile_deletes_nothing(make_app, runtime, config,
                                                           tmp_path):
    proc = RegistryProcess(tmp_path / "reg").start()
    try:
        repos = [unique(f"r{i}/app") for i in range(5)]
        for repo in repos:
            proc.push(repo, "1")
        pool = ClientPool(config)
        stopping: dict[str, bool] = {"on": False}

        def client_for(registry: Any) -> Any:
            client = pool(registry)
            return StopAfterFirstPage(client, proc) if stopping["on"] else client

        app = make_app(proc.url, client_for=client_for)
        first = reconciler(app).run_now("system:test")
        assert (first.added, first.errors) == (5, 0)
        clear_outbox(runtime)

        stopping["on"] = True
        run = reconciler(app).run_now("system:test")
        assert run.status == "partial" and run.errors >= 1
        assert run.removed == 0
        assert any(d["where"] == "catalog" for d in run.error_details)
        assert outbox_events(runtime, "registry.") == []
        assert observed_count(runtime) == 5

        stopping["on"] = False  # the registry is down for the whole run now
        down = reconciler(app).run_now("system:test")
        assert down.status == "partial" and down.removed == 0
        assert observed_count(runtime) == 5
        assert outbox_events(runtime, "registry.") == []
        finished = outbox_events(runtime, "sync.run.finished")
        assert [e["data"]["removed"] for e in finished] == [0, 0]
        assert all(e["data"]["errors"] >= 1 for e in finished)
    finally:
        proc.stop()
