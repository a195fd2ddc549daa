"""The reconcile's rules with a scripted registry: failures never delete,
parallelism stays bounded, newer notifications win over older listings."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from berth.syncer.models import ObservedTag
from berth.syncer.registry_client import (
    ManifestInfo,
    RegistryNotFound,
    RegistryUnavailable,
)
from berth.syncer.services import observed
from sqlalchemy import select
from syncer_testing import clear_outbox, outbox_events

MT = "application/vnd.oci.image.manifest.v1+json"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


class ScriptedRegistry:
    """Behaves like RegistryClient over a dict of repo -> {tag: digest}."""

    def __init__(self, repos: dict[str, dict[str, str]], page: int = 2) -> None:
        self.repos = repos
        self.page = page
        self.failing: set[str] = set()
        self.catalog_fails_after: int | None = None
        self.delay = 0.0
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()
        self.on_list: Any = None

    def catalog(self) -> Iterator[list[str]]:
        names = sorted(self.repos)
        for i in range(0, len(names), self.page):
            if self.catalog_fails_after is not None and i >= self.catalog_fails_after:
                raise RegistryUnavailable("catalog: 503")
            yield names[i:i + self.page]

    def tags(self, repository: str) -> Iterator[list[str]]:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)
            if repository in self.failing:
                raise RegistryUnavailable("tags: timeout")
            if self.on_list is not None:
                self.on_list(repository)
            if repository not in self.repos:
                raise RegistryNotFound(repository)
            yield sorted(self.repos[repository])
        finally:
            with self._lock:
                self.active -= 1

    def manifest(self, repository: str, reference: str) -> ManifestInfo:
        try:
            return ManifestInfo(self.repos[repository][reference], MT, 100)
        except KeyError as exc:
            raise RegistryNotFound(reference) from exc


def setup(make_app: Any, repos: dict[str, dict[str, str]]) -> tuple[Any, ScriptedRegistry]:
    scripted = ScriptedRegistry(repos)
    app = make_app(client_for=lambda _registry: scripted)
    return app.extensions["berth.syncer"].reconciler, scripted


def kinds(runtime: Any) -> list[tuple[str, str, str]]:
    return sorted((e["type"], e["data"]["repository"], e["data"]["tag"])
                  for e in outbox_events(runtime, "registry."))


def test_a_failed_repository_listing_deletes_nothing_in_it(make_app, runtime):
    rec, reg = setup(make_app, {"a": {"1": digest(1)}, "b": {"1": digest(2)},
                                "c": {"1": digest(3)}})
    rec.run_now("system:test")
    clear_outbox(runtime)
    reg.failing.add("b")
    reg.repos["c"] = {}          # c really lost its tag
    del reg.repos["a"]["1"]      # so did a
    reg.repos["a"]["2"] = digest(4)
    run = rec.run_now("system:test")
    assert kinds(runtime) == [("registry.manifest.pushed", "a", "2"),
                              ("registry.tag.removed", "a", "1"),
                              ("registry.tag.removed", "c", "1")]
    assert (run.status, run.errors, run.removed) == ("partial", 1, 2)
    assert run.error_details[0]["where"] == "b"


def test_a_catalog_failing_midway_sweeps_no_repository(make_app, runtime):
    repos = {f"r{i}": {"t": digest(i)} for i in range(6)}
    rec, reg = setup(make_app, repos)
    rec.run_now("system:test")
    clear_outbox(runtime)
    reg.catalog_fails_after = 2   # only the first page arrives
    del reg.repos["r5"]           # vanished, but the walk can't prove it
    run = rec.run_now("system:test")
    assert run.status == "partial" and run.removed == 0
    assert outbox_events(runtime, "registry.") == []
    reg.catalog_fails_after = None
    complete = rec.run_now("system:test")
    assert complete.removed == 1
    assert kinds(runtime) == [("registry.tag.removed", "r5", "t")]


def test_parallelism_is_bounded(make_app):
    rec, reg = setup(make_app, {f"r{i:02d}": {"t": digest(i)} for i in range(20)})
    reg.delay = 0.02
    run = rec.run_now("system:test")
    assert run.added == 20
    assert 1 < reg.peak <= 4  # config: sync_parallelism=4


def test_a_notification_newer_than_the_listing_wins(make_app, runtime):
    rec, reg = setup(make_app, {"a": {"1": digest(1)}})
    rec.run_now("system:test")
    clear_outbox(runtime)

    def push_during_listing(repository: str) -> None:
        # A push lands (and is notified) after the listing began.
        with runtime.sessions() as s:
            repo = observed.repository(s, "registry.test:5000", repository)
            observed.set_tag(s, repo, "1", digest(9), MT, 1)
            observed.set_tag(s, repo, "new", digest(8), MT, 1)
            s.commit()

    reg.on_list = push_during_listing
    run = rec.run_now("system:test")
    assert (run.changed, run.removed) == (0, 0)
    assert outbox_events(runtime, "registry.") == []
    with runtime.sessions() as s:
        tags = dict(s.execute(select(ObservedTag.tag, ObservedTag.digest)).all())
    assert tags == {"1": digest(9), "new": digest(8)}


def test_a_repository_gone_from_the_catalog_is_removed_tag_by_tag(make_app, runtime):
    rec, reg = setup(make_app, {"a": {"1": digest(1), "2": digest(2)},
                                "b": {"1": digest(3)}})
    rec.run_now("system:test")
    clear_outbox(runtime)
    del reg.repos["a"]
    run = rec.run_now("system:test")
    assert run.removed == 2
    assert kinds(runtime) == [("registry.tag.removed", "a", "1"),
                              ("registry.tag.removed", "a", "2")]
    assert rec.run_now("system:test").removed == 0


def test_quiet_periodic_runs_publish_nothing_but_manual_runs_are_recorded(make_app,
                                                                          runtime):
    rec, _reg = setup(make_app, {"a": {"1": digest(1)}})
    rec.run_now("system:timer")
    clear_outbox(runtime)
    rec.run_now("system:timer")
    assert outbox_events(runtime) == []
    rec.run_now("admin")
    [finished] = outbox_events(runtime)
    assert finished["type"] == "sync.run.finished"
    assert finished["data"]["triggered_by"] == "admin"


def test_a_run_that_loses_its_lock_stops_and_says_so(make_app, runtime):
    from datetime import timedelta

    from berth.syncer.models import SyncLock
    from sqlalchemy import update

    rec, reg = setup(make_app, {f"r{i:03d}": {"t": digest(i)} for i in range(120)})
    rec.lock_ttl = 0.03  # renew at every batch

    def steal(_repository: str) -> None:
        with runtime.sessions.begin() as s:
            s.execute(update(SyncLock).values(
                owner="another-replica", expires_at=observed.utcnow() + timedelta(hours=1)))

    reg.on_list = steal
    reg.delay = 0.001
    run = rec.run_now("system:test")
    assert run.status == "failed"
    assert any("lock lost" in d["message"] for d in run.error_details)
    with runtime.sessions() as s:
        assert s.scalar(select(SyncLock.owner)) == "another-replica"  # not released


def test_a_moved_tag_is_changed_once_and_then_silent(make_app, runtime):
    rec, reg = setup(make_app, {"a": {"1": digest(1), "2": digest(2)}})
    rec.run_now("system:test")
    clear_outbox(runtime)
    reg.repos["a"]["1"] = digest(7)
    run = rec.run_now("system:test")
    assert (run.added, run.changed, run.removed) == (0, 1, 0)
    [event] = outbox_events(runtime, "registry.")
    assert (event["type"], event["data"]["tag"], event["data"]["digest"]) == \
        ("registry.manifest.pushed", "1", digest(7))
    with runtime.sessions() as s:
        tags = dict(s.execute(select(ObservedTag.tag, ObservedTag.digest)).all())
    assert tags == {"1": digest(7), "2": digest(2)}
    clear_outbox(runtime)
    assert rec.run_now("system:test").changed == 0
    assert outbox_events(runtime, "registry.") == []


def test_the_next_batch_is_listed_while_one_is_applied(make_app, monkeypatch):
    from berth.syncer.services import reconcile
    from berth.syncer.services.apply import Applier

    rec, reg = setup(make_app, {f"r{i:03d}": {"t": digest(i)} for i in range(150)})
    listed = [0]
    lock = threading.Lock()

    def count(_repository: str) -> None:
        with lock:
            listed[0] += 1

    reg.on_list = count
    seen_at_apply: list[int] = []
    real_apply = Applier.apply

    def slow_apply(self: Any, listings: Any, stats: Any) -> None:
        # Wait (bounded) for the pool to go as far as it may while we apply.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and listed[0] < 2 * reconcile.BATCH:
            time.sleep(0.01)
        seen_at_apply.append(listed[0])
        real_apply(self, listings, stats)

    monkeypatch.setattr(Applier, "apply", slow_apply)
    run = rec.run_now("system:test")
    assert run.added == 150
    # While the first batch was applied, the whole next batch was listed.
    assert seen_at_apply[0] >= 2 * reconcile.BATCH


def test_a_reconcile_publishes_every_change_once_and_empties_the_outbox(
        make_app, runtime, config):
    from berth.common.outbox import Outbox
    from berth.syncer.models import OUTBOX
    from syncer_testing import drain

    rec, _reg = setup(make_app, {f"r{i:03d}": {"t": digest(i), "u": digest(500 + i)}
                                 for i in range(120)})
    drain(runtime.bus, "catalog")
    rec.outbox = Outbox(OUTBOX, runtime.bus, "syncer")
    run = rec.run_now("system:test")
    assert run.added == 240
    got = [e for e in drain(runtime.bus, "catalog")
           if e["type"] == "registry.manifest.pushed"]
    assert len(got) == len({e["id"] for e in got}) == 240
    assert outbox_events(runtime, "registry.") == []
    assert rec.run_now("system:test").added == 0
    assert drain(runtime.bus, "catalog") == []
