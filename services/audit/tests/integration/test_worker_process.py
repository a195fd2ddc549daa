"""``python -m berth.audit migrate`` and ``worker`` as real processes: events
published by another process are recorded; SIGTERM stops the worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from berth.audit.models import AuditRecord
from berth.common.bus import Bus, queues_for
from berth.common.db import make_engine, make_sessionmaker
from berth.common.testing import backend


def test_worker_process_records_published_events(
        tmp_path: Path, berth_home: Path, amqp_url: str, database_url: str,
        runtime: Any, make_envelope: Callable[..., Any]) -> None:
    url = (f"sqlite:///{tmp_path / 'db' / 'audit.sqlite'}" if backend() == "sqlite"
           else database_url)
    env = {**os.environ, "BERTH_HOME": str(berth_home), "BERTH_AUDIT_DATABASE_URL": url,
           "BERTH_AMQP_URL": amqp_url, "BERTH_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "berth.audit", "migrate"], env=env,
                   check=True, timeout=60)
    publisher = Bus(amqp_url or None, berth_home, "token")
    with publisher.connection() as conn:
        publisher.declare(conn)
        for q in queues_for("audit"):
            q(conn.default_channel).purge()
    worker = subprocess.Popen([sys.executable, "-m", "berth.audit", "worker"], env=env)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        publisher.publish([
            make_envelope("identity.application_token.created",
                          {"user_id": 2, "username": "alice", "token_id": 7,
                           "application": "ci"},
                          actor={"id": 2, "name": "alice", "address": "10.0.0.2"},
                          producer="token"),
            make_envelope("identity.login.failed",
                          {"username": "mallory", "reason": "bad_credentials"},
                          producer="token"),
        ])
        deadline = time.monotonic() + 30
        count = 0
        while time.monotonic() < deadline and count < 2:
            time.sleep(0.2)
            with sessions() as s:
                count = int(s.scalar(select(func.count()).select_from(AuditRecord))
                            or 0)
        assert count == 2
        with sessions() as s:
            actions = set(s.scalars(select(AuditRecord.action)))
        assert actions == {"application_token.create", "login.failed"}
        assert (berth_home / "secrets" / "audit-anchor").exists()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=20)
        publisher.close()
        engine.dispose()
    assert code == 0
