"""``python -m berth.syncer migrate|worker``: the reconcile at start, the outbox
relay onto the real bus, and the consumer deleting on the catalog's request."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import requests
from berth.common.bus import Bus
from berth.common.events.base import Envelope
from berth.common.events.catalog import TagDeleteRequested
from berth.syncer.models import SyncRun
from berth.syncer.worker import run_worker
from sqlalchemy import create_engine, inspect, select
from syncer_testing import drain, wait_for


def test_migrate_command_creates_the_schema(tmp_path: Path):
    db = tmp_path / "db" / "syncer.sqlite"
    env = {"BERTH_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "berth.syncer", "migrate"], check=False,
                          env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    tables = set(inspect(create_engine(f"sqlite:///{db}")).get_table_names())
    assert {"observed_repositories", "observed_tags", "sync_runs", "sync_locks",
            "seen_notifications", "outbox", "processed_events"} <= tables
    usage = subprocess.run([sys.executable, "-m", "berth.syncer", "dance"], check=False,
                           env=env,
                           capture_output=True, timeout=60)
    assert usage.returncode == 2


def test_worker_reconciles_at_start_publishes_and_deletes_on_request(
        registry, runtime, config):
    repo = f"team/w{uuid.uuid4().hex[:8]}"
    digest = registry.push(repo, "1")
    cfg = dataclasses.replace(config, registry_url=registry.url, sync_on_start=True,
                              sync_interval=3600.0)
    bus = Bus(cfg.amqp_url or None, cfg.home, "test")
    drain(bus, "catalog")
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(cfg, stop), daemon=True)
    worker.start()
    try:
        def start_run() -> Any:
            with runtime.sessions() as s:
                return s.scalar(select(SyncRun).where(SyncRun.status != "running",
                                                      SyncRun.triggered_by == "system:start"))

        run = wait_for(start_run)
        assert run.status == "succeeded" and run.added >= 1
        seen: list[dict[str, Any]] = []

        def published() -> bool:
            seen.extend(drain(bus, "catalog"))
            return any(e["data"].get("repository") == repo for e in seen)

        wait_for(published)
        [ours] = [e for e in seen if e["data"].get("repository") == repo]
        assert ours["type"] == "registry.manifest.pushed"
        assert ours["data"]["origin"] == "reconcile" and ours["data"]["digest"] == digest

        request = TagDeleteRequested(entity_id=1, name="1", repository=repo,
                                     registry=cfg.registry_service,
                                     details={"digest": digest})
        bus.publish([Envelope.wrap(request, producer="catalog")])
        url = f"{registry.url}/v2/{repo}/manifests/{digest}"
        accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
        wait_for(lambda: requests.head(url, headers=accept, timeout=5).status_code == 404)
    finally:
        stop.set()
        worker.join(timeout=15)
        bus.close()
    assert not worker.is_alive()
